#include "pg/wal.hpp"

#include "pg/guard.hpp"

#include <algorithm>

#include <unistd.h>

extern "C" {
#include "access/xlog.h"
#include "access/xlog_internal.h"
}

namespace colmig::pg {

std::int64_t wal_insert_position() {
  return call([] { return static_cast<std::int64_t>(GetXLogInsertRecPtr()); });
}

int prepare_wal_segments(std::int64_t bytes_ahead) {
  return call([&]() -> int {
    if (RecoveryInProgress())
      return 0;
    const XLogRecPtr insert = GetXLogInsertRecPtr();
    const TimeLineID timeline = GetWALInsertionTimeLine();
    XLogSegNo current = 0;
    XLogSegNo last = 0;
    XLByteToSeg(insert, current, wal_segment_size);
    XLByteToSeg(insert + static_cast<XLogRecPtr>(std::max<std::int64_t>(bytes_ahead, 0)),
                last, wal_segment_size);
    last = std::max(last, current + 1);
    int created = 0;
    char path[MAXPGPATH];
    for (XLogSegNo segment = current + 1; segment <= last; ++segment) {
      // An existing segment (recycled by a checkpoint, or made earlier) is
      // only opened; the check keeps the common case to one stat().
      XLogFilePath(path, timeline, segment, wal_segment_size);
      if (access(path, F_OK) == 0)
        continue;
      // The same call the checkpointer uses to make the next segment in
      // advance; concurrent creators are serialised by PostgreSQL.
      close(XLogFileInit(segment, timeline));
      ++created;
    }
    return created;
  });
}

} // namespace colmig::pg
