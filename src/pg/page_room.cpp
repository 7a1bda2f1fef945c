#include "pg/page_room.hpp"

extern "C" {
#include "access/htup_details.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "utils/snapmgr.h"
}

namespace colmig::pg {

namespace {

// A page that filled few rows in place in this batch (kFewFitted) may move
// a few others out: one, and one more per kRowsPerMove line pointers. The
// room they leave keeps the next batches filling rows in place on the
// page; without it, each batch would fit fewer (a filled row is wider
// than it was) and the page would need many more visits. Few moves per
// batch also keep the index small: the entries of the moved rows' old
// versions are dead by the next batch, and a B-tree leaf that fills
// deletes them (bottom-up deletion) before it splits. Measured while this
// was tuned, on the benchmark's million-row orders table: fewer moves (only
// when nothing fits) left the primary key 1.57x its size, more (every
// batch) the heap 1.34x; these left 1.00x and 1.23x.
constexpr int kRowsPerMove = 40;
constexpr int kFewFitted = 4;

// The size heap_update() needs on the page for the new version: its
// header with the null bitmap, and its data, aligned, as heap_form_tuple
// lays it out.
Size new_version_size(TupleTableSlot *row) {
  TupleDesc desc = row->tts_tupleDescriptor;
  slot_getallattrs(row);
  bool has_null = false;
  for (int i = 0; i < desc->natts; ++i)
    has_null |= row->tts_isnull[i];
  Size header = offsetof(HeapTupleHeaderData, t_bits);
  if (has_null)
    header += BITMAPLEN(desc->natts);
  header = MAXALIGN(header);
  return MAXALIGN(header +
                  heap_compute_data_size(desc, row->tts_values, row->tts_isnull));
}

RoomVerdict waits(PageRoom &room) {
  room.full = true;
  return RoomVerdict::waits;
}

} // namespace

RoomVerdict room_for_row(PageRoom &room, TupleTableSlot *old_row,
                         TupleTableSlot *new_row) {
  if (!TTS_IS_BUFFERTUPLE(old_row))
    return RoomVerdict::fits; // not a heap page: nothing to keep small
  const Buffer buffer = reinterpret_cast<BufferHeapTupleTableSlot *>(old_row)->buffer;
  const BlockNumber page = ItemPointerGetBlockNumber(&old_row->tts_tid);
  LockBuffer(buffer, BUFFER_LOCK_SHARE);
  const Page contents = BufferGetPage(buffer);
  const Size free_space = PageGetHeapFreeSpace(contents);
  const OffsetNumber line_pointers = PageGetMaxOffsetNumber(contents);
  const TransactionId prune_xid = reinterpret_cast<PageHeader>(contents)->pd_prune_xid;
  LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
  if (page != room.page) {
    // The scan pruned the page as it read it: what is left dead is kept
    // for an older snapshot.
    room.page = page;
    room.fitted = 0;
    room.moved = 0;
    room.full = false;
    room.held = TransactionIdIsValid(prune_xid) && room.horizon != nullptr &&
                !GlobalVisTestIsRemovableXid(room.horizon, prune_xid);
    room.held_pages += room.held ? 1 : 0;
    room.may_move = 1 + line_pointers / kRowsPerMove;
  }
  if (new_version_size(new_row) <= free_space)
    return RoomVerdict::fits;
  // Pruning cannot make room while the old snapshot lasts: once the
  // batches have waited for it long enough, rows move as for an UPDATE.
  if (room.held)
    return room.move_while_held ? RoomVerdict::moves : waits(room);
  if (room.fitted <= kFewFitted && room.moved < room.may_move)
    return RoomVerdict::moves;
  return waits(room);
}

void count_written(PageRoom &room, RoomVerdict verdict) {
  if (verdict == RoomVerdict::fits)
    ++room.fitted;
  else if (verdict == RoomVerdict::moves)
    ++room.moved;
}

} // namespace colmig::pg
