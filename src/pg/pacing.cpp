#include "pg/pacing.hpp"

#include "core/pacing.hpp"
#include "pg/guard.hpp"

#include <chrono>

extern "C" {
#include "miscadmin.h"
}

namespace colmig::pg {

namespace {

using Clock = std::chrono::steady_clock;

struct PacingState {
  bool active = false;
  core::PacingRule rule;
  Clock::time_point working_since{};
  double rested = 0;
};

PacingState state;

} // namespace

Pacing::Pacing(double slice_seconds, double rest_ratio) {
  state.active = slice_seconds > 0 && rest_ratio > 0;
  state.rule = {slice_seconds, rest_ratio};
  state.working_since = Clock::now();
  state.rested = 0;
}

Pacing::~Pacing() { state.active = false; }

double Pacing::rested_seconds() const { return state.rested; }

void rest_if_due_unguarded() {
  if (!state.active)
    return;
  const Clock::time_point now = Clock::now();
  const double worked = std::chrono::duration<double>(now - state.working_since).count();
  const double rest = core::rest_after(state.rule, worked);
  if (rest <= 0)
    return;
  // pg_usleep wakes early on a signal; CHECK_FOR_INTERRUPTS then acts on a
  // cancel or shutdown at once.
  pg_usleep(static_cast<long>(rest * 1e6));
  CHECK_FOR_INTERRUPTS();
  state.working_since = Clock::now();
  state.rested += std::chrono::duration<double>(state.working_since - now).count();
}

void rest_if_due() {
  pg::call([] { rest_if_due_unguarded(); });
}

} // namespace colmig::pg
