// The coordinator's side of a distributed add_column (docs/citus.md): it
// asks every node holding a placement of the job's table, through Citus,
// to run, pause, cancel or release that placement's fill_shard job
// (colmig.shard_fill() there), and records each answer in
// colmig.shard_jobs. Runs inside a transaction; what the nodes do commits
// there at once, whatever this transaction does (each call is idempotent).
#pragma once
#include "catalog/job.hpp"

namespace colmig::runner {

// Drops the job's NOT VALID check through Citus (ALTER TABLE ... DROP
// CONSTRAINT on the coordinator, so on every placement), if it is there and
// is colmig's. The caller holds the table's lock. In a step, as the job's
// owner, like the step's other statements: Citus gives each role its own
// connection to a node, and a second role's statement in the same
// distributed transaction would wait there for the first one's lock.
enum class DropAs { owner, worker };
void drop_distributed_check(const catalog::Job &job, DropAs as);

enum class ShardAction { run, pause, cancel, release };

// Sends `action` to every placement. `run` and `release` raise 55000 when
// the placements are no longer those the job started with (a shard was
// moved, split or copied meanwhile), and record a node that cannot be
// reached, to be asked again; pause and cancel go where the shard jobs
// are, and raise 55000 unless every node took them.
void ask_shards(const catalog::Job &job, ShardAction action);

// A paused job: its shard jobs are paused too, and the job marked so
// (catalog::mark_pause_passed_on). A node that cannot be reached is logged
// and asked again at resume.
void pass_pause_on(const catalog::Job &job);

} // namespace colmig::runner
