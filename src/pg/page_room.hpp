// Compact backfills (colmig.compact): a row is filled where its new version
// fits on the row's own page, so that PostgreSQL writes it there (a HOT
// update: no new index entry, and the old version's space comes back when
// the page is pruned). A row that does not fit waits: the batch leaves it
// NULL and the next batch visits its page again, after the page was pruned
// of the versions this batch left dead (heapam prunes a nearly full page
// when a scan reads it). A page that fits few rows in a batch moves a few
// of its rows to another page, as an UPDATE would move them all: a filled
// row is wider, so some must leave, and every batch fills something on
// every page it visits. But not while a snapshot older than the batches
// before keeps their dead versions on the page (an ANALYZE, a report, a
// session idle in a transaction): pruning would make room soon, and a
// moved row is an index entry more. Once the batches have waited long
// enough (the caller says when), the rows of such pages move as for an
// UPDATE.
//
// Plain functions for row_fill.cpp: they run inside its pg::call.
#pragma once

#include "pg/postgres.hpp"

#include <cstdint>

extern "C" {
#include "executor/tuptable.h"
#include "storage/block.h"
#include "utils/snapmgr.h"
}

namespace colmig::pg {

struct PageRoom {
  // Set for the batch: what judges whether dead versions may go, and
  // whether rows may move from pages whose dead versions may not yet.
  GlobalVisState *horizon = nullptr;
  bool move_while_held = false;
  BlockNumber page = InvalidBlockNumber;
  int fitted = 0;               // rows of this page filled in place by this batch
  int moved = 0;                // rows of this page this batch let move
  int may_move = 0;             // how many it may move, while few fit
  bool full = false;            // a row was left for room: so are the page's next ones
  bool held = false;            // the page keeps dead versions an old snapshot may see
  std::uint64_t held_pages = 0; // pages of the batch found so
};

// The row in `old_row` is on a page this batch found full: it waits too,
// without its new version being computed.
inline bool page_is_full(const PageRoom &room, TupleTableSlot *old_row) {
  return room.full && ItemPointerGetBlockNumber(&old_row->tts_tid) == room.page;
}

enum class RoomVerdict { fits, moves, waits };

// Whether the row in `old_row` (a slot of the scan, on a pinned buffer) is
// filled now with `new_row` as its new version: it fits on its page, it
// may move, or it waits. `room` starts afresh when the row is on another
// page.
RoomVerdict room_for_row(PageRoom &room, TupleTableSlot *old_row,
                         TupleTableSlot *new_row);

// The row was written (a trigger may still have kept it from being, or
// someone else changed it first): only rows written count.
void count_written(PageRoom &room, RoomVerdict verdict);

} // namespace colmig::pg
