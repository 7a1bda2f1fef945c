#include "pg/transaction.hpp"

extern "C" {
#include "access/xact.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
}

namespace colmig::pg {

namespace {
// The context the worker was in before the transaction began; transaction
// contexts die at commit or abort, so we return here afterwards.
MemoryContext outer_context = nullptr;
} // namespace

void begin_transaction(const char *activity) {
  outer_context = CurrentMemoryContext;
  call([&] {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    if (SPI_connect() != SPI_OK_CONNECT)
      elog(ERROR, "colmig: SPI_connect failed");
    PushActiveSnapshot(GetTransactionSnapshot());
    pgstat_report_activity(STATE_RUNNING, activity);
  });
}

void commit_transaction() {
  call([] {
    SPI_finish();
    PopActiveSnapshot();
    CommitTransactionCommand();
    pgstat_report_stat(false);
    pgstat_report_activity(STATE_IDLE, nullptr);
  });
  MemoryContextSwitchTo(outer_context);
}

void abort_transaction() {
  // Called from catch blocks. AbortCurrentTransaction releases SPI,
  // snapshots, locks and the transient user id. It is not guarded: an error
  // while aborting has no handler in a worker and ends the process (FATAL),
  // which is the only safe continuation.
  MemoryContextSwitchTo(outer_context);
  HOLD_INTERRUPTS();
  AbortCurrentTransaction();
  RESUME_INTERRUPTS();
  pgstat_report_activity(STATE_IDLE, nullptr);
  MemoryContextSwitchTo(outer_context);
}

void set_local(const char *name, const char *value) {
  call([&] {
    (void)set_config_option(name, value, PGC_SUSET, PGC_S_SESSION, GUC_ACTION_LOCAL, true,
                            0, false);
  });
}

StatementTimeout::StatementTimeout(int milliseconds) {
  call([&] { enable_timeout_after(STATEMENT_TIMEOUT, milliseconds); });
}

StatementTimeout::~StatementTimeout() { disable_timeout(STATEMENT_TIMEOUT, false); }

AsRole::AsRole(Oid role) {
  GetUserIdAndSecContext(&saved_user_, &saved_context_);
  SetUserIdAndSecContext(role, saved_context_ | SECURITY_LOCAL_USERID_CHANGE |
                                   SECURITY_RESTRICTED_OPERATION);
}

AsRole::~AsRole() { SetUserIdAndSecContext(saved_user_, saved_context_); }

} // namespace colmig::pg
