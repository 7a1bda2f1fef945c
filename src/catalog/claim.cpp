#include "catalog/claim.hpp"

#include "pg/context_allocator.hpp"
#include "pg/spi.hpp"
#include "worker/start.hpp"

#include <boost/container/vector.hpp>

extern "C" {
#include "commands/extension.h"
}

namespace colmig::catalog {

namespace {
// Advisory keys are int4; job ids beyond 2^31 wrap, the view uses the same.
const char *const kTryLock =
    "SELECT pg_catalog.pg_try_advisory_lock($1, ($2 % 2147483648)::int4)";
} // namespace

bool extension_installed() {
  return pg::call([] { return OidIsValid(get_extension_oid("colmig", true)); });
}

Claim claim_next_job(bool (*skip)(std::int64_t job_id)) {
  pg::execute("SELECT job_id FROM colmig.jobs "
              "WHERE state IN ('queued', 'running') "
              "OR (cleanup_needed AND state IN ('failed', 'cancelled')) ORDER BY job_id");
  using Ids = boost::container::vector<std::int64_t, pg::ContextAllocator<std::int64_t>>;
  Ids candidates{pg::ContextAllocator<std::int64_t>(CurrentMemoryContext)};
  for (std::uint64_t row = 0; row < pg::result_rows(); ++row)
    candidates.push_back(*pg::get_int64(row, 0));
  Claim claim;
  for (std::int64_t job_id : candidates) {
    if (skip(job_id)) {
      claim.skipped = true;
      continue;
    }
    pg::execute(kTryLock,
                {pg::int4_param(worker::kJobLockClass), pg::int8_param(job_id)});
    if (*pg::get_bool(0, 0)) {
      claim.job_id = job_id;
      return claim;
    }
  }
  return claim;
}

void release_job(std::int64_t job_id) {
  pg::execute("SELECT pg_catalog.pg_advisory_unlock($1, ($2 % 2147483648)::int4)",
              {pg::int4_param(worker::kJobLockClass), pg::int8_param(job_id)});
}

} // namespace colmig::catalog
