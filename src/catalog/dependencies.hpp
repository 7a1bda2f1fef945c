// colmig.job_dependencies: the objects a job's expressions use, recorded
// when the job is created, so that dropping one is refused while the job
// lives (colmig.protect_job_dependencies(), an sql_drop event trigger).
#pragma once

#include "pg/postgres.hpp"

#include <cstdint>
#include <optional>
#include <string>

extern "C" {
#include "nodes/nodes.h"
}

namespace colmig::catalog {

// Inside a transaction with SPI connected, with the rights to write
// colmig.job_dependencies. `expr` is an analysed expression over `relid`'s
// columns (or over none). The table itself is not recorded: dropping it is
// allowed, and fails the job.
void record_dependencies(std::int64_t job_id, Oid relid, Node *expr);

// The first object among those dropped by the current DDL command that a
// live job uses, as "<object description>" and the job's id.
struct UsedObject {
  std::string description;
  std::int64_t job_id;
};
std::optional<UsedObject> dropped_object_in_use();

// Fails the unfinished jobs that use what the current DROP ... CASCADE
// dropped, as a cascading drop drops a column default that uses it.
// Returns how many.
std::uint64_t fail_jobs_using_dropped_objects();

// Forgets what a finished job used.
void forget_dependencies(std::int64_t job_id);

} // namespace colmig::catalog
