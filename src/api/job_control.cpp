// colmig.pause(), resume(), cancel() and wait(). The caller changes only a
// job's state; the worker notices at its next step or batch. Each
// transition is one conditional UPDATE, so it cannot race a worker or
// another caller into an impossible state.
#include "core/job_state.hpp"

#include "api/catalog_access.hpp"
#include "catalog/claim.hpp"
#include "ipc/shared_state.hpp"

#include <string>

#include <csignal>

extern "C" {
#include "access/htup_details.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "nodes/parsenodes.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"
}

namespace {

using namespace colmig;

struct JobRow {
  core::JobState state;
  Oid owner;
  bool cleanup_needed;
  bool created_here;
  std::optional<std::string> phase;
  std::optional<std::string> last_error;
  std::optional<std::string> last_sqlstate;
};

std::int64_t job_argument(FunctionCallInfo fcinfo) {
  api::require_argument(fcinfo, 0, "job_id");
  return PG_GETARG_INT64(0);
}

// Whether the row version with this xmin was written by the current
// transaction or one of its subtransactions: a worker cannot see it yet.
bool created_by_this_transaction(std::int64_t xmin) {
  return pg::call([&] {
    return TransactionIdIsCurrentTransactionId(static_cast<TransactionId>(xmin));
  });
}

// The job as the caller may see it: an error if it does not exist or
// belongs to a role the caller does not act for.
JobRow load_visible_job(api::CatalogAccess &catalog, std::int64_t job_id) {
  pg::execute("SELECT state, owner::int8, cleanup_needed, xmin::text::int8, "
              "phase, last_error, last_sqlstate FROM colmig.jobs WHERE job_id = $1",
              {pg::int8_param(job_id)});
  if (pg::result_rows() == 0)
    pg::raise("42704", "colmig job " + std::to_string(job_id) + " does not exist");
  JobRow row{core::parse_job_state(*pg::get_text(0, 0)).value_or(core::JobState::failed),
             static_cast<Oid>(*pg::get_int64(0, 1)),
             *pg::get_bool(0, 2),
             created_by_this_transaction(*pg::get_int64(0, 3)),
             pg::get_text(0, 4),
             pg::get_text(0, 5),
             pg::get_text(0, 6)};
  if (!catalog.caller_controls(row.owner))
    pg::raise("42501", "permission denied for colmig job " + std::to_string(job_id), {},
              "Only the table's owner, members of colmig_admin and superusers "
              "control a job.");
  return row;
}

// Workers to interrupt once the cancel() that asked for it commits: a
// cancel rolled back, also to a savepoint, must leave its job running.
struct PendingInterrupt {
  pid_t pid;
  int nest_level; // of the (sub)transaction that asked for it
};
constexpr int kMaxPendingInterrupts = 16;
PendingInterrupt pending_interrupts[kMaxPendingInterrupts];
int pending_count = 0;

void on_transaction_end(XactEvent event, void *) {
  if (event == XACT_EVENT_COMMIT)
    for (int i = 0; i < pending_count; ++i)
      (void)kill(pending_interrupts[i].pid, SIGINT);
  if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
      event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
    pending_count = 0;
}

void on_subtransaction_end(SubXactEvent event, SubTransactionId, SubTransactionId,
                           void *) {
  if (event != SUBXACT_EVENT_ABORT_SUB)
    return;
  // Called while the aborting subtransaction is still the current one.
  const int level = GetCurrentTransactionNestLevel();
  int kept = 0;
  for (int i = 0; i < pending_count; ++i)
    if (pending_interrupts[i].nest_level < level)
      pending_interrupts[kept++] = pending_interrupts[i];
  pending_count = kept;
}

void interrupt_at_commit(pid_t pid) {
  static bool registered = false;
  if (!registered) {
    pg::call([] {
      RegisterXactCallback(on_transaction_end, nullptr);
      RegisterSubXactCallback(on_subtransaction_end, nullptr);
    });
    registered = true;
  }
  const int level = pg::call([] { return GetCurrentTransactionNestLevel(); });
  if (pending_count < kMaxPendingInterrupts)
    pending_interrupts[pending_count++] = {pid, level};
}

// The steps that run as one long statement (a scan, an index build): a
// cancel would otherwise wait for their end. Their worker gets a query
// cancel; its error meets the committed 'cancelled' state and the job's
// cleanup follows as after any cancel.
void interrupt_long_step(std::int64_t job_id) {
  pg::execute(
      "SELECT l.pid::int8 FROM pg_catalog.pg_locks l JOIN colmig.jobs j "
      "ON l.objid = (j.job_id % 4294967296)::oid "
      "WHERE j.job_id = $1 AND (CASE WHEN j.phase = 'queued' THEN j.plan[1] ELSE j.phase "
      "END) IN ('validate_constraints', "
      "'validate_not_null_check', 'build_index') "
      "AND l.locktype = 'advisory' AND l.granted AND l.objsubid = 3 "
      "AND l.classid = $2::oid AND l.database = (SELECT oid FROM pg_catalog.pg_database "
      "WHERE datname = pg_catalog.current_database())",
      {pg::int8_param(job_id), pg::int4_param(catalog::kJobLockClass)});
  if (pg::result_rows() == 0)
    return;
  interrupt_at_commit(static_cast<pid_t>(*pg::get_int64(0, 0)));
}

// Applies `sql` (an UPDATE guarded by the allowed states) or explains why
// the job is not in a state that allows it.
void transition(FunctionCallInfo fcinfo, const char *verb, const char *sql,
                bool (*allowed)(core::JobState), bool wake,
                void (*after)(std::int64_t job_id) = nullptr) {
  std::int64_t job_id = job_argument(fcinfo);
  api::CatalogAccess catalog;
  JobRow row = load_visible_job(catalog, job_id);
  if (!allowed(row.state) || pg::execute(sql, {pg::int8_param(job_id)}) == 0)
    pg::raise("55000", "cannot " + std::string(verb) + " colmig job " +
                           std::to_string(job_id) + ": it is " +
                           core::to_string(row.state));
  if (after != nullptr)
    after(job_id);
  if (wake)
    ipc::wake_launcher_at_commit();
}

} // namespace

COLMIG_SQL_FUNCTION(colmig_pause) {
  transition(
      fcinfo, "pause",
      "UPDATE colmig.jobs SET state = 'paused', throttled = NULL, updated_at = now() "
      "WHERE job_id = $1 AND state IN ('queued', 'running')",
      core::can_pause, false);
  PG_RETURN_VOID();
}

COLMIG_SQL_FUNCTION(colmig_resume) {
  transition(fcinfo, "resume",
             "UPDATE colmig.jobs SET state = CASE WHEN started_at IS NULL "
             "THEN 'queued' ELSE 'running' END, "
             "args = args - 'pause_passed_on' - 'paused_by_coordinator', "
             "updated_at = now() "
             "WHERE job_id = $1 AND state = 'paused'",
             core::can_resume, true);
  PG_RETURN_VOID();
}

COLMIG_SQL_FUNCTION(colmig_cancel) {
  // A worker removes the fill trigger: it needs a lock, with retries, which
  // is no work for the caller's session.
  transition(fcinfo, "cancel",
             "UPDATE colmig.jobs SET state = 'cancelled', throttled = NULL, "
             "finished_at = CASE WHEN cleanup_needed THEN NULL ELSE now() END, "
             "updated_at = now() "
             "WHERE job_id = $1 AND state IN ('queued', 'running', 'paused')",
             core::can_cancel, true, interrupt_long_step);
  PG_RETURN_VOID();
}

namespace {

constexpr long kPollIntervalMs = 100;

std::optional<TimestampTz> deadline_from(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(1))
    return std::nullopt;
  Interval *timeout = pg::call([&] { return PG_GETARG_INTERVAL_P(1); });
  return pg::call([&] {
    return DatumGetTimestampTz(DirectFunctionCall2(
        timestamptz_pl_interval, TimestampTzGetDatum(GetCurrentTimestamp()),
        PointerGetDatum(timeout)));
  });
}

void sleep_interruptibly() {
  pg::call([] {
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
                    kPollIntervalMs, PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    CHECK_FOR_INTERRUPTS();
  });
}

} // namespace

namespace {

// One look at the job for wait() and wait_job(): its final state once it
// has ended, nothing while it goes on; its error if it failed, 57014 past
// the deadline. `in_transaction`: the caller waits inside one transaction
// (wait()), where a job created in it would never be seen by a worker.
std::optional<core::JobState> look_at_job(api::CatalogAccess &catalog,
                                          std::int64_t job_id,
                                          std::optional<TimestampTz> deadline,
                                          bool in_transaction) {
  const std::string name = "colmig job " + std::to_string(job_id);
  JobRow row = load_visible_job(catalog, job_id);
  if (row.state == core::JobState::failed)
    throw pg::Error(pg::sqlstate_to_code(row.last_sqlstate.value_or("XX000").c_str()),
                    name + " failed: " + row.last_error.value_or("unknown error"));
  if (row.state == core::JobState::succeeded ||
      (row.state == core::JobState::cancelled && !row.cleanup_needed))
    return row.state;
  // Also in a subtransaction of it: waiting would never end.
  if (in_transaction && row.created_here)
    pg::raise("25000", name + " was created or changed in this transaction",
              "The worker sees the job once the transaction commits; commit, then "
              "wait.");
  if (deadline && pg::call([] { return GetCurrentTimestamp(); }) >= *deadline)
    pg::raise("57014", "timed out waiting for " + name,
              std::string("The job is ") + core::to_string(row.state) + " in phase " +
                  row.phase.value_or("?") + ".");
  return std::nullopt;
}

// Polls the job until it has ended.
core::JobState wait_for_end(api::CatalogAccess &catalog, std::int64_t job_id,
                            std::optional<TimestampTz> deadline) {
  for (;;) {
    if (auto state = look_at_job(catalog, job_id, deadline, true))
      return *state;
    sleep_interruptibly();
  }
}

} // namespace

COLMIG_SQL_FUNCTION(colmig_wait) {
  std::int64_t job_id = job_argument(fcinfo);
  std::optional<TimestampTz> deadline = deadline_from(fcinfo);
  if (pg::call([] { return IsolationUsesXactSnapshot(); }))
    pg::raise("25000", "colmig.wait() needs READ COMMITTED",
              "Under REPEATABLE READ or SERIALIZABLE the job's progress is invisible "
              "until the transaction ends.");
  core::JobState final_state = core::JobState::queued;
  {
    api::CatalogAccess catalog;
    final_state = wait_for_end(catalog, job_id, deadline);
  }
  // After SPI_finish: the text must live in the caller's context.
  return pg::call([&] { return CStringGetTextDatum(core::to_string(final_state)); });
}

namespace {

// One poll of wait_job(), in a catalog scope that is closed again before
// the transaction commits.
std::optional<core::JobState> poll_once(std::int64_t job_id,
                                        std::optional<TimestampTz> deadline) {
  api::CatalogAccess catalog;
  return look_at_job(catalog, job_id, deadline, false);
}

bool call_is_atomic(FunctionCallInfo fcinfo) {
  return fcinfo->context == nullptr || !IsA(fcinfo->context, CallContext) ||
         castNode(CallContext, fcinfo->context)->atomic;
}

} // namespace

// CALL colmig.wait_job(job_id, timeout): commits between polls, so that
// no snapshot is held while it waits.
COLMIG_SQL_FUNCTION(colmig_wait_job) {
  std::int64_t job_id = job_argument(fcinfo);
  if (call_is_atomic(fcinfo))
    pg::raise("2D000", "colmig.wait_job() cannot run inside a transaction block", {},
              "CALL it on its own, or use SELECT colmig.wait(), which holds a snapshot.");
  std::optional<TimestampTz> deadline = deadline_from(fcinfo);
  std::optional<core::JobState> final_state;
  pg::call([] {
    if (SPI_connect_ext(SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
      elog(ERROR, "colmig: SPI_connect failed");
  });
  for (;;) {
    final_state = poll_once(job_id, deadline);
    if (final_state)
      break;
    // The commit drops the snapshot the poll (and the CALL) held.
    pg::call([] { SPI_commit(); });
    sleep_interruptibly();
  }
  pg::call([] { SPI_finish(); });
  // The INOUT state argument comes back as a one-column record.
  return pg::call([&] {
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
      elog(ERROR, "colmig: wait_job() must return a record");
    desc = BlessTupleDesc(desc);
    Datum value = CStringGetTextDatum(core::to_string(*final_state));
    bool isnull = false;
    return HeapTupleGetDatum(heap_form_tuple(desc, &value, &isnull));
  });
}
