// One backfill batch: fills the job's column in the rows of a ctid page
// range, inside the caller's transaction.
//
// It is not an SQL statement. It scans the pages (a TID range scan) with a
// snapshot of its own, evaluates the job's analysed expression over each
// row whose column is NULL, and updates the row in place the way
// PostgreSQL's own UPDATE and logical replication do: table_tuple_update,
// then the indexes (unless the update is HOT), with the table's
// constraints and stored generated columns. So:
//
//  - what runs is the expression add_column() analysed; nothing is parsed
//    or planned per batch, and no rewrite rule, row-level security policy
//    or statement of anyone else's comes between the batch and its rows;
//  - it acts on the table by OID and on the column by attribute number;
//  - by default no row trigger fires (the application's `updated_at` or
//    audit triggers see no backfill); with `fire_triggers` the table's
//    BEFORE and AFTER row triggers fire as for an UPDATE of the column.
//    Statement triggers never fire. Foreign keys lose nothing: the batch
//    changes no key column, so PostgreSQL's own RI triggers would have
//    nothing to check either.
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "storage/block.h"
}

#include <cstdint>

namespace colmig::pg {

struct FillRequest {
  std::int64_t job_id; // for messages
  Oid relid;
  AttrNumber attnum;         // the column to fill
  const char *expression;    // the analysed expression, as stored
  bool wait_for_locked_rows; // false: skip rows another transaction holds
  bool fire_triggers;
  Oid own_trigger;       // the job's fill trigger: no need to fire it
  Oid expected_filenode; // InvalidOid: any
};

struct FillResult {
  std::uint64_t filled = 0;
  std::uint64_t skipped_locked = 0;
  // The table's relfilenode is no longer the expected one (a rewrite):
  // nothing was done.
  bool table_rewritten = false;
};

// Pages [first, end). Raises 42P01 when the table is gone, 42703 when the
// column or a column the expression reads was dropped. Between rows it
// rests when a pg::Pacing says so.
FillResult fill_page_range(const FillRequest &request, BlockNumber first,
                           BlockNumber end);

} // namespace colmig::pg
