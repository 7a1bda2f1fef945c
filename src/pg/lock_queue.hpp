// Whether a lock request on a table would wait right now, and behind whom:
// the sessions that hold, or already wait for, a lock on it that conflicts
// with the mode asked for (a request queues behind waiters too). What
// pg_blocking_pids() would say once the request waited.
#pragma once

#include "core/ddl_messages.hpp"

#include "pg/postgres.hpp"

#include <optional>

namespace colmig::pg {

// The longest-running such session, or nothing. Connects SPI itself. What
// another role's session does is shown as pg_stat_activity shows it to the
// current user.
std::optional<core::LockBlocker> find_lock_blocker(Oid relid, core::LockMode mode);

} // namespace colmig::pg
