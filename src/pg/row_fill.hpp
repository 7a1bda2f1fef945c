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
//  - by default none of the application's row triggers fires (its
//    `updated_at` or audit triggers see no backfill), only PostgreSQL's
//    internal ones: foreign keys (a key on the new column is checked),
//    deferred unique and exclusion checks, and other colmig jobs' fill
//    triggers. With `fire_triggers` every row trigger fires as for an
//    UPDATE of the column. Statement triggers never fire.
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
  // The batch holds the rows it updated locked until it commits: past this
  // many seconds it stops at the next page (0: never).
  double budget_seconds;
  // Fill a row only where its new version fits on its page, leave the
  // others for the next batch (pg/page_room.hpp).
  bool in_place;
  // in_place: rows may move also from pages whose dead versions an old
  // snapshot keeps (the batches have waited for it long enough).
  bool move_while_held;
};

struct FillResult {
  std::uint64_t filled = 0;
  std::uint64_t skipped_locked = 0;
  // Rows a BEFORE trigger kept from being updated (fire_triggers).
  std::uint64_t skipped_by_trigger = 0;
  // The table's relfilenode is no longer the expected one (a rewrite):
  // nothing was done.
  bool table_rewritten = false;
  // The budget ran out: the pages before `next_page` are done, the rest of
  // the range is not.
  bool stopped_early = false;
  BlockNumber next_page = 0;
  // in_place: rows left NULL for want of room on their page, and the first
  // page that has one (the pages before it are done).
  std::uint64_t deferred = 0;
  BlockNumber first_deferred_page = InvalidBlockNumber;
  // in_place: pages whose dead versions an old snapshot kept from being
  // pruned (pg/page_room.hpp).
  std::uint64_t held_pages = 0;
};

// Pages [first, end). Raises 42P01 when the table is gone, 42703 when the
// column or a column the expression reads was dropped. Between rows it
// rests when a pg::Pacing says so.
FillResult fill_page_range(const FillRequest &request, BlockNumber first,
                           BlockNumber end);

} // namespace colmig::pg
