// Who stands in the way of a step that could not get its lock, for the
// job's last_error and the server log, and what to do about autovacuum.
#pragma once
#include "catalog/job.hpp"

#include <string>

namespace colmig::runner {

// The sessions holding a lock on the job's table (or on the table its
// foreign key references), e.g. "pid 4711 (client
// backend, role app, transaction open 00:12:03, idle in transaction):
// UPDATE ...". A session's statement is shown only when it is the job
// owner's: last_error is visible to the owner, the statements of other
// roles are not. Empty when nobody holds one now.
std::string describe_lock_holders(const catalog::Job &job);

// PostgreSQL cancels an autovacuum that blocks a lock request once the
// request has waited deadlock_timeout (1 s), which colmig's short
// lock_timeout never does: late steps (the check, VALIDATE, SET NOT NULL,
// dropping the trigger) would give up behind a slow autovacuum of the table
// the backfill itself set off. So the worker does what PostgreSQL would:
// it cancels an autovacuum of the table that holds a lock on it, unless it
// runs to prevent wraparound. Returns how many it cancelled.
int cancel_blocking_autovacuum(const catalog::Job &job);

} // namespace colmig::runner
