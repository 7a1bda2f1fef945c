// WAL segment files made ahead of the job's own WAL.
//
// Whoever first writes into a WAL segment that does not exist yet creates
// it: 16 MB zero-filled and fsynced while holding WALWriteLock, so every
// committing session waits (60-180 ms measured on the benchmark machine).
// A backfill writes WAL faster than the checkpointer's pool of recycled
// segments anticipates, so without this it is the application's commits
// that pay for the new segments.
#pragma once

#include <cstdint>

namespace colmig::pg {

// Makes sure the segment after the current one exists, and every segment
// up to `bytes_ahead` past the current insert position, creating missing
// ones in this process and outside any lock the application needs. Does
// nothing during recovery. Returns how many segments it created.
int prepare_wal_segments(std::int64_t bytes_ahead);

// The current WAL insert position in bytes; differences between two calls
// are the WAL written meanwhile (by anyone). Read in C: as an SQL query it
// was parsed and planned twice per batch.
std::int64_t wal_insert_position();

} // namespace colmig::pg
