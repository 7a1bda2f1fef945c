#include "pg/writeback.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "access/relation.h"
#include "nodes/pg_list.h"
#include "storage/bufmgr.h"
#include "storage/smgr.h"
#include "utils/rel.h"
#include "utils/relcache.h"
}

namespace colmig::pg {

namespace {

// AccessShareLock: the batch's UPDATE takes stronger locks on all of them
// in the same transaction anyway. A relation dropped meanwhile counts as
// empty; the batch itself then reports it.
BlockNumber blocks_of(Oid relid) {
  Relation rel = try_relation_open(relid, AccessShareLock);
  if (rel == nullptr)
    return 0;
  BlockNumber blocks = RelationGetNumberOfBlocks(rel);
  relation_close(rel, NoLock);
  return blocks;
}

} // namespace

GrowthWriteback::GrowthWriteback(Oid relid) {
  constexpr int kCapacity = 16;
  Oid oids[kCapacity];
  int count = call([&]() -> int {
    Relation rel = try_relation_open(relid, AccessShareLock);
    if (rel == nullptr)
      return 0;
    List *indexes = RelationGetIndexList(rel);
    relation_close(rel, NoLock);
    int n = 0;
    oids[n++] = relid;
    ListCell *cell;
    foreach (cell, indexes) {
      if (n == kCapacity)
        break;
      oids[n++] = lfirst_oid(cell);
    }
    list_free(indexes);
    return n;
  });
  for (int i = 0; i < count; ++i)
    sizes_.push_back({oids[i], call([&] { return blocks_of(oids[i]); })});
}

void GrowthWriteback::start() const {
  for (const Size &size : sizes_) {
    call([&] {
      Relation rel = try_relation_open(size.relid, AccessShareLock);
      if (rel == nullptr)
        return;
      BlockNumber blocks = RelationGetNumberOfBlocks(rel);
      if (blocks > size.blocks)
        smgrwriteback(RelationGetSmgr(rel), MAIN_FORKNUM, size.blocks,
                      blocks - size.blocks);
      relation_close(rel, NoLock);
    });
  }
}

} // namespace colmig::pg
