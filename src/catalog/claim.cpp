#include "catalog/claim.hpp"

#include "pg/spi.hpp"

#include <algorithm>

extern "C" {
#include "commands/extension.h"
#include "miscadmin.h"
#include "storage/lock.h"
}

namespace colmig::catalog {

namespace {

// The claim is a session-level advisory lock, but not one SQL can take:
// pg_advisory_lock() fills field4 with 1 (one bigint key) or 2 (two int4
// keys); colmig uses 3. So no role can take a job's claim to freeze it (or
// pose as its worker in colmig.progress). Job ids wrap at 2^32 in the key;
// colmig.progress matches the same.
constexpr uint16 kClaimLockKind = 3;

LOCKTAG claim_tag(std::int64_t job_id) {
  LOCKTAG tag;
  SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, static_cast<uint32>(kJobLockClass),
                       static_cast<uint32>(job_id & 0xffffffff), kClaimLockKind);
  return tag;
}

bool try_claim(std::int64_t job_id) {
  return pg::call([&] {
    LOCKTAG tag = claim_tag(job_id);
    return LockAcquire(&tag, ExclusiveLock, true, true) != LOCKACQUIRE_NOT_AVAIL;
  });
}

// colmig.progress says why a job no worker has taken up waits.
void note_waiting_for_window(std::int64_t job_id, const core::RunWindow &window) {
  pg::execute(
      "UPDATE colmig.jobs SET throttled = $2 WHERE job_id = $1 "
      "AND state IN ('queued', 'running') AND throttled IS DISTINCT FROM $2",
      {pg::int8_param(job_id), pg::text_param(core::outside_window_reason(window))});
}

} // namespace

bool extension_installed() {
  return pg::call([] { return OidIsValid(get_extension_oid("colmig", true)); });
}

namespace {

// The installed version of colmig in this database, or nothing.
std::optional<std::string> installed_version() {
  pg::execute("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'colmig'");
  return pg::result_rows() == 0 ? std::nullopt : pg::get_text(0, 0);
}

} // namespace

bool extension_current() {
  if (!extension_installed())
    return false;
  const auto version = installed_version();
  if (version == kSchemaVersion)
    return true;
  static bool logged = false;
  if (!logged)
    elog(LOG,
         "colmig: the extension in this database is version %s, this library needs %s; "
         "jobs wait until ALTER EXTENSION colmig UPDATE",
         version.value_or("?").c_str(), kSchemaVersion);
  logged = true;
  return false;
}

bool older_extension_has_work() {
  if (!extension_installed() || installed_version() == kSchemaVersion)
    return false;
  pg::execute(
      "SELECT EXISTS (SELECT 1 FROM colmig.jobs WHERE state IN ('queued', 'running') "
      "OR (cleanup_needed AND state IN ('failed', 'cancelled')))");
  return pg::get_bool(0, 0).value_or(false);
}

void require_current_extension() {
  const auto version = installed_version();
  if (version != kSchemaVersion)
    pg::raise("55000",
              "colmig's SQL objects are version " + version.value_or("?") +
                  ", but its library is " + kSchemaVersion,
              {}, "Run ALTER EXTENSION colmig UPDATE.");
}

JobsWithWork jobs_with_work(std::int64_t preferred,
                            const std::optional<core::RunWindow> &global_window) {
  pg::execute(R"sql(
SELECT job_id,
       -- Seconds until the job may be taken up, but for its run window:
       -- its start_at, and after a worker died with it (attempts without
       -- progress) as many seconds as it has had such attempts, so its
       -- tries are spread out. Not start_at - now(): that raises for an
       -- infinite start_at, and one such job would keep every job of the
       -- database from running.
       greatest(CASE WHEN start_at IS NULL THEN 0
                     ELSE extract(epoch FROM start_at) - extract(epoch FROM now()) END,
                CASE WHEN attempts > 0 AND state = 'running'
                     THEN attempts - extract(epoch FROM now() - updated_at)
                     ELSE 0 END,
                -- A job parked while it waits for others (catalog/job.hpp).
                CASE WHEN state = 'running' AND args ? 'look_again_at'
                     THEN extract(epoch FROM (args ->> 'look_again_at')::timestamptz)
                          - extract(epoch FROM pg_catalog.clock_timestamp())
                     ELSE 0 END)::float8,
       -- Whether a run window applies: removing a failed or cancelled
       -- job's helpers waits for none.
       throttle AND state IN ('queued', 'running'),
       (extract(hour FROM window_start) * 60 + extract(minute FROM window_start))::int8,
       (extract(hour FROM window_end) * 60 + extract(minute FROM window_end))::int8,
       (extract(hour FROM localtime) * 60 + extract(minute FROM localtime))::int8,
       extract(second FROM localtime)::float8
  FROM colmig.jobs
 WHERE state IN ('queued', 'running')
    OR (cleanup_needed AND state IN ('failed', 'cancelled'))
    -- A distributed job paused while parked: its shard jobs are told.
    OR (state = 'paused' AND args ? 'citus' AND NOT args ? 'pause_passed_on'
        AND EXISTS (SELECT 1 FROM colmig.shard_jobs s WHERE s.job_id = jobs.job_id))
 ORDER BY job_id = $1 DESC, attempts, job_id)sql",
              {pg::int8_param(preferred)});
  JobsWithWork jobs{pg::ContextAllocator<JobWithWork>(CurrentMemoryContext)};
  for (std::uint64_t row = 0; row < pg::result_rows(); ++row) {
    const auto minute = [&](int column) -> std::optional<int> {
      if (auto value = pg::get_int64(row, column))
        return static_cast<int>(*value);
      return std::nullopt;
    };
    const std::optional<core::RunWindow> window = core::job_run_window(
        pg::get_bool(row, 2).value_or(false), minute(3), minute(4), global_window);
    const double until_window =
        core::seconds_until_open(window, minute(5).value_or(0), *pg::get_float8(row, 6));
    const double until_start = *pg::get_float8(row, 1);
    jobs.push_back({*pg::get_int64(row, 0), std::max(until_start, until_window),
                    until_window > std::max(until_start, 0.0) ? window : std::nullopt});
  }
  return jobs;
}

Claim claim_next_job(std::int64_t preferred,
                     const std::optional<core::RunWindow> &global_window,
                     bool (*skip)(std::int64_t job_id)) {
  const JobsWithWork candidates = jobs_with_work(preferred, global_window);
  Claim claim;
  for (const JobWithWork &candidate : candidates) {
    if (claim.job_id) {
      // Another job nobody runs could run now beside this one: its claim
      // is free (taken and given back at once).
      if (!claim.more_runnable && candidate.starts_in <= 0 && !skip(candidate.job_id)) {
        if (try_claim(candidate.job_id)) {
          release_job(candidate.job_id);
          claim.more_runnable = true;
        }
      }
      continue;
    }
    if (candidate.starts_in > 0) {
      claim.next_start_in = std::min(claim.next_start_in.value_or(candidate.starts_in),
                                     candidate.starts_in);
      if (candidate.waits_for)
        note_waiting_for_window(candidate.job_id, *candidate.waits_for);
      continue;
    }
    if (skip(candidate.job_id)) {
      claim.skipped = true;
      continue;
    }
    if (try_claim(candidate.job_id)) {
      // Claimed: run_pending() need not hold the job back for a worker
      // on its way any more; if this worker dies, the next call restarts it.
      pg::execute("UPDATE colmig.jobs SET launch_requested_at = NULL "
                  "WHERE job_id = $1 AND launch_requested_at IS NOT NULL",
                  {pg::int8_param(candidate.job_id)});
      claim.job_id = candidate.job_id;
    }
  }
  return claim;
}

void release_job(std::int64_t job_id) {
  pg::call([&] {
    LOCKTAG tag = claim_tag(job_id);
    // Not held any more when the job's own SQL released every advisory lock.
    if (LockHeldByMe(&tag, ExclusiveLock))
      (void)LockRelease(&tag, ExclusiveLock, true);
  });
}

bool claim_held(std::int64_t job_id) {
  return pg::call([&] {
    LOCKTAG tag = claim_tag(job_id);
    return LockHeldByMe(&tag, ExclusiveLock);
  });
}

} // namespace colmig::catalog
