#include "guard/ddl_guard.hpp"

#include "guard/judged_step.hpp"
#include "guc.hpp"

extern "C" {
#include "access/xact.h"
#include "access/xlog.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/resowner.h"
}

#include <string>

namespace colmig::guard {

namespace {

ProcessUtility_hook_type previous_hook = nullptr;
bool exempt = false;

// What the guard has to say about one step, in the statement's memory.
struct Finding {
  bool refuse; // ERROR in block mode; else WARNING
  int sqlstate;
  char *message;
  char *detail;
  char *hint;
};

bool guarded_statement(Node *node) {
  switch (nodeTag(node)) {
  case T_AlterTableStmt:
  case T_IndexStmt:
  case T_DropStmt:
  case T_ReindexStmt:
  case T_VacuumStmt:
  case T_ClusterStmt:
  case T_TruncateStmt:
  case T_RenameStmt:
  case T_CreateStmt:
  case T_CreateTrigStmt:
  case T_LockStmt:
  case T_AlterObjectSchemaStmt:
  case T_RefreshMatViewStmt:
    return true;
  default:
    return false;
  }
}

std::string hint_for(const JudgedStep &judged) {
  std::string hint;
  if (judged.judgement.rule == core::DdlRule::lock_queue)
    hint = "SET lock_timeout = '2s' and retry until the statement goes through (colmig's "
           "own steps do so), or wait for that transaction to end.";
  else if (judged.alternative != nullptr)
    hint = std::string("Instead: ") + judged.alternative + ".";
  else if (judged.advice != nullptr)
    hint = std::string("Instead: ") + judged.advice + ".";
  return hint + (hint.empty() ? "" : " ") + "SET colmig.guard = off runs it as written.";
}

char *copy(MemoryContext context, const std::string &text) {
  return pg::call([&] { return MemoryContextStrdup(context, text.c_str()); });
}

// A role that may not run the step gets PostgreSQL's own permission error
// (42501), not the guard's: which lock the step would take is moot then.
bool may_run(const pg::DdlStep &step) {
  if (!OidIsValid(step.relid))
    return true;
  return pg::call([&] {
    const Oid role = GetUserId();
    return pg_class_ownercheck(step.relid, role) ||
           (step.non_owner_privilege != 0 &&
            pg_class_aclcheck(step.relid, role, step.non_owner_privilege) == ACLCHECK_OK);
  });
}

// The findings of a statement, allocated in `context`. May throw.
List *find(PlannedStmt *statement, const char *source, MemoryContext context) {
  const pg::DdlSteps steps = pg::call([&] {
    return pg::describe_utility(statement->utilityStmt, source, statement->stmt_location,
                                statement->stmt_len);
  });
  List *findings = NIL;
  for (int i = 0; i < steps.count; ++i) {
    const pg::DdlStep &step = steps.steps[i];
    if (!may_run(step))
      continue;
    const JudgedStep judged = judge_step(step);
    const core::Judgement &judgement = judged.judgement;
    if (judgement.verdict == core::Verdict::safe)
      continue;
    auto *finding = static_cast<Finding *>(
        pg::call([&] { return MemoryContextAllocZero(context, sizeof(Finding)); }));
    finding->refuse = judgement.verdict == core::Verdict::unsafe;
    finding->sqlstate = judgement.rule == core::DdlRule::lock_queue
                            ? ERRCODE_LOCK_NOT_AVAILABLE
                            : ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
    finding->message =
        copy(context, core::guard_message(judgement, judged.facts, step.table_facts,
                                          judged.text, judged.blocker));
    finding->detail = copy(context, core::guard_detail(judgement, judged.text));
    finding->hint = copy(context, hint_for(judged));
    pg::call([&] {
      MemoryContext before = MemoryContextSwitchTo(context);
      findings = lappend(findings, finding);
      MemoryContextSwitchTo(before);
    });
  }
  return findings;
}

// A cancel, a statement_timeout or a shutdown that arrived while judging
// is the user's or the server's, not a reason to let the statement run.
bool interrupts_statement(int sqlerrcode) {
  return ERRCODE_TO_CATEGORY(sqlerrcode) == ERRCODE_OPERATOR_INTERVENTION;
}

// Runs find() in a subtransaction: whatever goes wrong while judging (a
// type that does not exist, a function the DEFAULT names that is missing)
// is PostgreSQL's to report when the statement runs, never the guard's.
// Only an interruption is raised again, once the subtransaction is gone.
List *find_safely(PlannedStmt *statement, const char *source) {
  MemoryContext caller_context = CurrentMemoryContext;
  ResourceOwner caller_owner = CurrentResourceOwner;
  BeginInternalSubTransaction(nullptr);
  MemoryContextSwitchTo(caller_context);
  List *findings = NIL;
  bool judged = true;
  int interruption = 0;
  char message[256] = "";
  try {
    findings = find(statement, source, caller_context);
  } catch (const pg::Error &error) {
    judged = false;
    if (interrupts_statement(error.sqlerrcode())) {
      interruption = error.sqlerrcode();
      strlcpy(message, error.what(), sizeof(message));
    }
  } catch (...) {
    judged = false;
  }
  if (judged)
    ReleaseCurrentSubTransaction();
  else
    RollbackAndReleaseCurrentSubTransaction();
  MemoryContextSwitchTo(caller_context);
  CurrentResourceOwner = caller_owner;
  if (interruption != 0)
    ereport(ERROR, (errcode(interruption), errmsg_internal("%s", message)));
  return judged ? findings : NIL;
}

// Plain C from here: ereport() may leave these frames.
void report(List *findings) {
  const Finding *refused = nullptr;
  ListCell *cell;
  foreach (cell, findings) {
    auto *finding = static_cast<Finding *>(lfirst(cell));
    if (finding->refuse && guc::guard == guc::kGuardBlock) {
      if (refused == nullptr)
        refused = finding;
      continue;
    }
    ereport(WARNING,
            (errmsg_internal("%s", finding->message),
             errdetail_internal("%s", finding->detail), errhint("%s", finding->hint)));
  }
  if (refused != nullptr)
    ereport(ERROR,
            (errcode(refused->sqlstate), errmsg_internal("%s", refused->message),
             errdetail_internal("%s", refused->detail), errhint("%s", refused->hint)));
}

void guard_utility(PlannedStmt *statement, const char *source, bool read_only_tree,
                   ProcessUtilityContext context, ParamListInfo params,
                   QueryEnvironment *environment, DestReceiver *dest,
                   QueryCompletion *completion) {
  // A read-only transaction or a standby refuses DDL itself (25006).
  if (guc::guard != guc::kGuardOff && !exempt && IsTransactionState() && !XactReadOnly &&
      !RecoveryInProgress() && guarded_statement(statement->utilityStmt))
    report(find_safely(statement, source));
  if (previous_hook != nullptr)
    previous_hook(statement, source, read_only_tree, context, params, environment, dest,
                  completion);
  else
    standard_ProcessUtility(statement, source, read_only_tree, context, params,
                            environment, dest, completion);
}

} // namespace

void install_hook() {
  previous_hook = ProcessUtility_hook;
  ProcessUtility_hook = guard_utility;
}

void exempt_this_process() { exempt = true; }

} // namespace colmig::guard
