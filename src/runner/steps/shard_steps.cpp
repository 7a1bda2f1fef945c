// The steps of a distributed add_column (docs/citus.md). On the
// coordinator, fill_shards and release_shards drive one fill_shard job per
// shard placement, on the node holding it, and wait for them; on that node,
// a fill_shard job attaches its fill trigger to the placement, fills and
// proves it like a local job, then holds its trigger in await_release until
// the coordinator has set NOT NULL through Citus.
#include "runner/steps.hpp"

#include "catalog/shard_jobs.hpp"
#include "pg/spi.hpp"
#include "pg/transaction.hpp"
#include "runner/shard_fills.hpp"

#include <functional>
#include <optional>
#include <string>

namespace colmig::runner {

namespace {

// How often the coordinator asks the nodes, and a held shard job looks
// whether it was released. Between looks the job is parked: it gives its
// worker back (catalog::park), so that jobs waiting for shard jobs never
// hold every worker of a node that holds placements too.
constexpr int kShardPollMs = 1000;

// Nothing of the step commits when the job stopped (paused or cancelled)
// meanwhile; a pause goes on to the shard jobs, a cancel is passed on by
// the cleanup.
void pass_on_pause(const catalog::Job &job) {
  bool paused = false;
  pg::in_transaction("colmig: reading job state", [&] {
    paused = catalog::load_state(job.id) == core::JobState::paused;
  });
  if (paused)
    pass_pause_on(job);
}

// Asks every placement's node to `action` its shard job; once each has
// reached `phase` (or succeeded, with none), runs `then` in the same
// transaction as that look, else parks the job until the next look.
StepResult await_shards(catalog::Job &job, const char *activity, ShardAction action,
                        const std::optional<std::string> &phase,
                        const std::function<void()> &then) {
  bool stopped = false;
  bool arrived = false;
  std::optional<std::string> failure;
  // The nodes commit what they are asked at once: their answers are
  // committed here in a transaction of their own, which a pause or cancel
  // meanwhile cannot roll back, so that the cleanup finds every shard job.
  pg::in_transaction(activity, [&] {
    if (catalog::state_for_step(job.id) != core::JobState::running) {
      stopped = true;
      return;
    }
    ask_shards(job, action);
    catalog::sum_shard_rows(job.id);
  });
  if (!stopped) {
    try {
      pg::in_transaction(activity, [&] {
        const catalog::ShardSummary summary = catalog::summarise_shards(job.id, phase);
        // Raised after this commits: colmig.progress_shards shows every
        // placement as its node last told.
        failure = summary.failure;
        if (failure)
          return;
        if (summary.placements > 0 && summary.arrived == summary.placements) {
          then();
          arrived = true;
          return;
        }
        catalog::park(job.id, kShardPollMs,
                      "waits for " +
                          std::to_string(summary.placements - summary.arrived) + " of " +
                          std::to_string(summary.placements) +
                          " shard placements (colmig.progress_shards)");
      });
    } catch (const catalog::JobStopped &) {
      stopped = true;
    }
  }
  if (failure)
    pg::raise("55000", "a shard job of colmig job " + std::to_string(job.id) +
                           " did not finish: " + *failure);
  if (stopped)
    pass_on_pause(job);
  if (arrived)
    return StepResult::done;
  return stopped ? StepResult::stopped : StepResult::parked;
}

} // namespace

StepResult fill_shards(catalog::Job &job, NextStep next) {
  return await_shards(job, "colmig: fill_shards", ShardAction::run,
                      std::string(core::to_string(core::StepKind::await_release)),
                      [&] { complete(job, next); });
}

StepResult release_shards(catalog::Job &job, NextStep next) {
  // Each shard job proves its own placement before it drops its trigger
  // (a nullable column) or found NOT NULL set; the placements are those
  // filled (ask_shards): together, every row of the table.
  return await_shards(job, "colmig: release_shards", ShardAction::release, std::nullopt,
                      [&] {
                        catalog::set_cleanup_needed(job.id, false);
                        complete(job, next);
                      });
}

StepResult await_release(catalog::Job &job, NextStep next) {
  bool released = false;
  bool stopped = false;
  try {
    pg::in_transaction("colmig: await_release", [&] {
      if (catalog::state_for_step(job.id) != core::JobState::running) {
        stopped = true;
        return;
      }
      released = catalog::shard_released(job.id);
      if (released)
        complete(job, next);
      else
        catalog::park(job.id, kShardPollMs,
                      "filled: waits for the coordinator to set NOT NULL");
    });
  } catch (const catalog::JobStopped &) {
    stopped = true;
  }
  if (released)
    return StepResult::done;
  return stopped ? StepResult::stopped : StepResult::parked;
}

} // namespace colmig::runner
