// Carries one claimed job through its plan, one committed step at a time.
#pragma once

#include <cstdint>

namespace colmig::runner {

// Never throws: failures end up in the job's state and last_error.
// Returns whether the job is parked (catalog::park): running, waiting for
// others, to be taken up again when due.
bool run_job(std::int64_t job_id);

} // namespace colmig::runner
