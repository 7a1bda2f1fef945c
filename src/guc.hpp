// colmig's settings (postgresql.conf, ALTER SYSTEM, ALTER DATABASE); see
// docs/configuration.md for what each one does and its default.
#pragma once

#include <optional>

namespace colmig::core {
struct RunWindow;
} // namespace colmig::core

namespace colmig::guc {

extern int lock_timeout_ms;
extern int lock_retries;
extern int max_attempts;
extern int retry_base_delay_ms;
extern int retry_max_delay_ms;
extern int batch_size;
extern int batch_pause_ms;
extern double batch_pause_ratio;
extern int max_workers;
extern int launcher_naptime_s;
extern int batch_target_ms;
extern double busy_batch_target_ms;
extern int batch_size_min;
extern int batch_size_max;
extern int batch_statement_timeout_ms;
extern int max_replication_lag_mb;
extern int max_replication_lag_time_ms;
extern int max_wal_rate_mb;
extern bool wait_for_autovacuum;
extern bool smooth_io;
extern double batch_slice_ms;
extern char *run_window;
extern int parallel;
extern int max_parallel;
extern bool compact;
// colmig.guard: what the guard does with a dangerous DDL statement.
enum GuardMode { kGuardOff, kGuardWarn, kGuardBlock };
extern int guard;
extern int guard_min_rows;

void define_all();

// colmig.run_window, parsed (it was checked when set); callers include
// core/throttle.hpp.
std::optional<core::RunWindow> global_run_window();

} // namespace colmig::guc
