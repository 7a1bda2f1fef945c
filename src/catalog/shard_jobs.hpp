// colmig.shard_jobs: on the coordinator, what each shard placement's node
// last answered about its fill_shard job (docs/citus.md). Every function
// runs inside a transaction with SPI connected.
#pragma once
#include "pg/citus.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace colmig::catalog {

// The placements the job has heard from so far (empty before the first).
pg::citus::Placements recorded_placements(std::int64_t job_id);

// A node's answer for one placement: the shard job's progress (jsonb text)
// when `reached`, else why the node could not be asked.
void record_shard_answer(std::int64_t job_id, const pg::citus::Placement &placement,
                         bool reached, const std::string &answer);

// The node ran colmig.shard_fill() and it raised `error`: the placement's
// job cannot be made or moved on; the coordinator's job fails with it.
void record_shard_error(std::int64_t job_id, const pg::citus::Placement &placement,
                        const std::string &error);

// What the job's shard jobs have in common now.
struct ShardSummary {
  std::int64_t placements = 0;
  std::int64_t unreachable = 0;
  // In the phase asked for, or past it.
  std::int64_t arrived = 0;
  // A shard job that failed or was cancelled on its node, with its error.
  std::optional<std::string> failure;
};
// `arrived_phase`: the shard jobs' phase the coordinator waits for, or
// nothing to wait for them to succeed.
ShardSummary summarise_shards(std::int64_t job_id,
                              const std::optional<std::string> &arrived_phase);

// The coordinator's job shows the sum of its shards' rows.
void sum_shard_rows(std::int64_t job_id);

// A fill_shard job: whether its coordinator has released it.
bool shard_released(std::int64_t job_id);

} // namespace colmig::catalog
