// A step's first move: lock the job's table by OID, then read its name and
// its column's name (pg/relation.hpp). A renamed table is followed; a
// dropped one fails the job (42P01); a table created under the old name is
// never touched.
#pragma once
#include "catalog/job.hpp"

#include <string>

extern "C" {
#include "storage/lockdefs.h"
}

namespace colmig::runner {

// Inside a step's transaction, under its lock_timeout.
std::string lock_job_table(const catalog::Job &job, LOCKMODE mode);

// The job's column as it is called now (42703 when it was dropped); before
// the column exists, the name it is to get.
std::string job_column(const catalog::Job &job);

// Runs `statement` as the job's owner (runner/as_job_owner.hpp).
void run_as_owner(const catalog::Job &job, const std::string &statement);

} // namespace colmig::runner
