// Write-back of the pages a backfill adds to a table and its indexes.
//
// Extending a relation writes empty pages into the kernel's page cache,
// where they stay dirty until the kernel's periodic write-back (after 30 s
// by default) flushes them all at once. Measured on the benchmark machine,
// that burst held up every application commit's WAL flush for 150-180 ms.
// Starting the write-back after each batch, as the checkpointer does with
// checkpoint_flush_after, turns the burst into a trickle.
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "storage/block.h"
}

#include <boost/container/static_vector.hpp>

namespace colmig::pg {

class GrowthWriteback {
public:
  // Inside a transaction: remembers the size of `relid` and of its indexes.
  explicit GrowthWriteback(Oid relid);

  // Inside the same transaction, once the batch has run: asks the kernel to
  // start writing the pages each relation gained since. Does not wait.
  void start() const;

private:
  struct Size {
    Oid relid;
    BlockNumber blocks;
  };
  // The table and its first indexes; past that, growth is left to the kernel.
  boost::container::static_vector<Size, 16> sizes_;
};

} // namespace colmig::pg
