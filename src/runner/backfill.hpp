// The batched phases (backfill and sweep): ctid page ranges, each batch one
// short transaction that commits its rows together with the job's cursor.
#pragma once
#include "catalog/job.hpp"
#include "runner/step_result.hpp"

#include <functional>

namespace colmig::runner {

// Runs batches from the job's cursor up to its end page. When the range is
// done, `finish` runs in the last batch's transaction (it commits the next
// phase), so a crash never repeats or skips the phase change.
// The sweep (`is_sweep`) waits for rows the application has locked; the
// first pass skips them. Each batch first checks the backfill's proof
// (runner/proof.hpp): a sweep that must begin again does so from page 0.
StepResult run_batches(catalog::Job &job, bool is_sweep,
                       const std::function<void()> &finish);

} // namespace colmig::runner
