// A backfill with parallel => N (N > 1): the table's pages [0, end_page)
// in N ranges (core/page_ranges.hpp, stored in colmig.job_ranges), filled
// by the job's own worker and up to N - 1 range workers at once. Each
// worker claims a free range, runs its batches (runner/backfill.hpp: each
// commits its rows with the range's cursor), and takes the next free one;
// a range whose worker died is free again and goes on from its cursor.
// The job's own worker waits for the others once no range is free, and
// begins the sweep (single, as always) when every range is done.
//
// Throttling, pause and cancel act on the job: every worker checks the
// job's state before each batch and holds back for the same signals.
#pragma once
#include "catalog/job.hpp"
#include "runner/step_result.hpp"

#include <cstdint>

namespace colmig::runner {

// The backfill step of the job's own worker.
StepResult run_parallel_backfill(catalog::Job &job);

// A range worker's whole life: fills free ranges of the job while it runs
// its backfill, then returns. Errors end it (logged); the job's own worker
// meets the same range later and fails the job, if the error stays.
void fill_free_ranges(std::int64_t job_id);

} // namespace colmig::runner
