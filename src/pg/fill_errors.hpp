// How often a fill trigger could not fill a row the application wrote (its
// expression raised there, and the row was written with the column NULL).
// The backfill's proof needs to know: such a row may lie anywhere, also
// behind the sweep, which then has to begin again to meet it.
//
// With colmig in shared_preload_libraries the counts live in shared memory,
// one per trigger (slots shared by a few); they start again from zero, under
// a new epoch, when the server restarts, and a mark taken before a restart
// never equals one taken after. Without it, one count for the database
// lives in the sequence colmig.fill_errors (epoch 0): every trigger's errors
// make every sweep begin again, which is slower, never wrong.
#pragma once

#include "pg/postgres.hpp"

#include <cstdint>

namespace colmig::pg {

// From _PG_init, while shared_preload_libraries is processed.
void install_fill_error_counters();

// In the fill trigger, C-level: counts one row `trigger` left NULL.
void note_fill_error(Oid trigger);

struct FillErrorMark {
  std::int64_t epoch = 0;
  std::int64_t count = 0;
};

// The count for `trigger` now (counts of triggers may share a slot: a
// false alarm costs a sweep, never a missed row). Without preloading it
// reads colmig.fill_errors: SPI connected, as a role that may read it.
FillErrorMark fill_error_mark(Oid trigger);

} // namespace colmig::pg
