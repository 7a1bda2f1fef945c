// Waiting in a background worker, as worker_spi, pg_cron and timescaledb
// do it: on the process latch, never with sleep().
#pragma once

namespace colmig::pg {

// Waits on the latch for at most `timeout_ms`, then handles interrupts and
// configuration reloads (SIGHUP). Never sleeps past a SIGTERM or the
// postmaster's death. For background workers only: a client backend
// reloads its configuration between statements, not here.
void wait_for_latch(long timeout_ms);

} // namespace colmig::pg
