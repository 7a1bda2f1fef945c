#include "pg/lock_queue.hpp"

#include "pg/spi.hpp"

#include <boost/container/static_vector.hpp>

extern "C" {
#include "storage/lock.h"
}

namespace colmig::pg {

namespace {

// This transaction holds a lock on the table that `mode` is granted under
// at once: nothing to wait for.
bool held_by_me(Oid relid, core::LockMode mode) {
  return call([&] {
    LOCKTAG tag;
    SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
    for (int held = 0; held < core::kLockModes; ++held)
      if (core::covers(static_cast<core::LockMode>(held), mode) &&
          LockHeldByMe(&tag, held + AccessShareLock))
        return true;
    return false;
  });
}

} // namespace

std::optional<core::LockBlocker> find_lock_blocker(Oid relid, core::LockMode mode) {
  if (held_by_me(relid, mode))
    return std::nullopt;
  boost::container::static_vector<std::string, core::kLockModes> conflicting;
  for (int i = 0; i < core::kLockModes; ++i) {
    const auto held = static_cast<core::LockMode>(i);
    if (core::conflicts(held, mode))
      conflicting.push_back(core::lock_view_name(held));
  }
  SpiConnection spi;
  execute(R"sql(
SELECT coalesce(l.pid, 0)::int8,
       extract(epoch FROM pg_catalog.now()
               - coalesce(a.xact_start, a.query_start, a.backend_start, pg_catalog.now()))::float8,
       coalesce(a.state, '')
  FROM pg_catalog.pg_locks l
  LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'relation' AND l.relation = $1
   AND l.database = (SELECT oid FROM pg_catalog.pg_database
                      WHERE datname = pg_catalog.current_database())
   AND l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid()
   AND l.mode = ANY ($2)
 ORDER BY l.granted DESC, 2 DESC
 LIMIT 1)sql",
          {oid_param(relid), text_array_param(conflicting.data(), conflicting.size())},
          true);
  if (result_rows() == 0)
    return std::nullopt;
  core::LockBlocker blocker;
  blocker.pid = static_cast<int>(get_int64(0, 0).value_or(0));
  blocker.transaction_seconds = get_float8(0, 1).value_or(0);
  blocker.state = get_text(0, 2).value_or("");
  return blocker;
}

} // namespace colmig::pg
