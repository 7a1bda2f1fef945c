// The worker's CPU time, handed out in thin slices.
//
// On the 2-vCPU benchmark machine, a process that computes for 50 ms at a
// time delays the application's processes by about that much, even with a
// CPU idle and even at nice 19 or SCHED_IDLE: a pure CPU burner at 50 ms on,
// 100 ms off took an application at 30% load from p99 1.3 ms to 12 ms. The
// same share of CPU taken a millisecond at a time cost 1.7 ms. So a
// throttled batch does not run its whole target and then pause: while a
// Pacing is alive, rest_if_due() rests each time the worker's work since its
// last rest reaches a slice (core::rest_after says how long). The
// batch calls it once per row (pg/row_fill.hpp). (Flushing the slice's
// WAL before each rest cost a quarter of the rows per second and showed no
// gain in the application's latency, so the batch still leaves its WAL to
// its commit, asynchronous, and the WAL writer.)
#pragma once

namespace colmig::pg {

class Pacing {
public:
  // slice_seconds <= 0 makes a Pacing that never rests.
  Pacing(double slice_seconds, double rest_ratio);
  ~Pacing();
  Pacing(const Pacing &) = delete;
  Pacing &operator=(const Pacing &) = delete;

  // Time spent resting since this Pacing began.
  double rested_seconds() const;
};

// Rests if a live Pacing says it is due, then processes interrupts (a
// cancel or a shutdown raises here). Without a Pacing it does nothing.
void rest_if_due();
// The same for C-level code already inside pg::call: an error longjmps.
void rest_if_due_unguarded();

} // namespace colmig::pg
