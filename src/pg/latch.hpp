// Waiting in a background worker, as worker_spi, pg_cron and timescaledb
// do it: on the process latch, never with sleep().
#pragma once

namespace colmig::pg {

// Waits on the latch for at most `timeout_ms`, then handles interrupts and
// configuration reloads (SIGHUP). Never sleeps past a SIGTERM or the
// postmaster's death. For background workers only: a client backend
// reloads its configuration between statements, not here. True when it
// reloaded the configuration.
bool wait_for_latch(long timeout_ms);

// Reloads the configuration if a SIGHUP asked for it since (a worker that
// is busy waits on no latch); true if it did.
bool reload_config_if_pending();

} // namespace colmig::pg
