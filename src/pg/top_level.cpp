#include "pg/top_level.hpp"

#include "pg/guard.hpp"
#include "pg/guc_scope.hpp"
#include "pg/transaction.hpp"

extern "C" {
#include "miscadmin.h"
}

extern "C" {
#include "access/xact.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "storage/lmgr.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/snapmgr.h"
}

#include <string>

namespace colmig::pg {

namespace {

// Session-level settings, not a nest level (GucScope): the statement
// commits transactions of its own, and the first commit would end a nest
// level's values. Restored once no transaction is open, so that neither
// a commit nor an abort undoes the restoring.
std::string current_setting(const char *name) {
  return call([&] { return GetConfigOptionByName(name, nullptr, false); });
}

void set_session(const char *name, const char *value) {
  call([&] {
    (void)set_config_option(name, value, PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SET, true,
                            0, false);
  });
}

// exec_simple_query's path for one statement: parse, analyse, plan, run
// in an unnamed portal at top level, so that PreventInTransactionBlock()
// accepts it. The trees live in `context`, which outlives the
// transactions the statement commits (exec_simple_query's MessageContext).
void run_portal(const char *sql, MemoryContext context) {
  call([&] {
    MemoryContextSwitchTo(context);
    List *parsed = pg_parse_query(sql);
    if (list_length(parsed) != 1)
      elog(ERROR, "colmig: expected one statement, got %d", list_length(parsed));
    RawStmt *raw = linitial_node(RawStmt, parsed);
    List *queries = pg_analyze_and_rewrite_fixedparams(raw, sql, nullptr, 0, nullptr);
    List *plans = pg_plan_queries(queries, sql, CURSOR_OPT_PARALLEL_OK, nullptr);
    Portal portal = CreatePortal("", true, true);
    portal->visible = false;
    PortalDefineQuery(portal, nullptr, sql, CreateCommandTag(raw->stmt), plans, nullptr);
    PortalStart(portal, nullptr, 0, InvalidSnapshot);
    DestReceiver *receiver = CreateDestReceiver(DestNone);
    QueryCompletion completion;
    InitializeQueryCompletion(&completion);
    (void)PortalRun(portal, FETCH_ALL, true, true, receiver, receiver, &completion);
    receiver->rDestroy(receiver);
    PortalDrop(portal, false);
  });
}

} // namespace

void run_outside_transaction_block(const TopLevelStatement &statement) {
  MemoryContext outer = CurrentMemoryContext;
  const std::string saved_timeout = current_setting("lock_timeout");
  const std::string saved_path = current_setting("search_path");
  MemoryContext context = call([] {
    return AllocSetContextCreate(TopMemoryContext, "colmig top-level statement",
                                 ALLOCSET_DEFAULT_SIZES);
  });
  const auto restore = [&] {
    set_session("lock_timeout", saved_timeout.c_str());
    set_session("search_path", saved_path.c_str());
  };
  try {
    call([&] {
      SetCurrentStatementStartTimestamp();
      StartTransactionCommand();
      pgstat_report_activity(STATE_RUNNING, statement.activity);
    });
    set_session("lock_timeout",
                (std::to_string(statement.lock_timeout_ms) + "ms").c_str());
    set_session("search_path", kSafeSearchPath);
    call([&] {
      PushActiveSnapshot(GetTransactionSnapshot());
      LockRelationOid(statement.lock_relid, statement.lock_mode);
    });
    call([] {
      if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "colmig: SPI_connect failed");
    });
    std::optional<std::string> sql = statement.render();
    call([] {
      SPI_finish();
      PopActiveSnapshot();
    });
    set_session("lock_timeout", "0");
    if (sql) {
      std::optional<AsRole> role;
      if (OidIsValid(statement.role))
        role.emplace(statement.role);
      call([&] { pgstat_report_activity(STATE_RUNNING, sql->c_str()); });
      run_portal(sql->c_str(), context);
    }
    call([] {
      CommitTransactionCommand();
      pgstat_report_stat(false);
      pgstat_report_activity(STATE_IDLE, nullptr);
    });
  } catch (...) {
    MemoryContextSwitchTo(outer);
    HOLD_INTERRUPTS();
    AbortCurrentTransaction();
    RESUME_INTERRUPTS();
    pgstat_report_activity(STATE_IDLE, nullptr);
    MemoryContextSwitchTo(outer);
    MemoryContextDelete(context);
    restore();
    throw;
  }
  MemoryContextSwitchTo(outer);
  MemoryContextDelete(context);
  restore();
}

} // namespace colmig::pg
