// A script or a statement read step by step (pg/ddl_statement.hpp): the
// statements' dispatch, the tables' live facts and the colmig calls.
#include "pg/ddl_statement_parts.hpp"

extern "C" {
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "nodes/makefuncs.h"
#include "optimizer/plancat.h"
#include "parser/parser.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
}

namespace colmig::pg {

namespace ddl {

namespace {

// Rows and bytes of one relation: under ACCESS SHARE when it is free at
// once (then the estimate follows the table's current size, as the
// planner's does), else from pg_class as the last VACUUM or ANALYZE left
// it. The lock is released again: reading a size must not hold anyone up
// until the end of the caller's transaction.
void add_relation_size(Oid relid, core::TableFacts &facts, bool is_target) {
  if (ConditionalLockRelationOid(relid, AccessShareLock)) {
    Relation rel = try_relation_open(relid, NoLock);
    if (rel != nullptr) {
      if (RELKIND_HAS_STORAGE(rel->rd_rel->relkind)) {
        const BlockNumber blocks = RelationGetNumberOfBlocks(rel);
        BlockNumber pages = 0;
        double tuples = 0, all_visible = 0;
        if (blocks > 0)
          estimate_rel_size(rel, nullptr, &pages, &tuples, &all_visible);
        // The planner assumes at least 10 pages for a table never
        // analysed; a smaller one counts only what it has.
        if (rel->rd_rel->reltuples < 0 && blocks < 10 && pages > 0)
          tuples = tuples * blocks / pages;
        facts.rows += tuples;
        facts.heap_bytes += static_cast<double>(blocks) * BLCKSZ;
      }
      if (is_target) {
        List *indexes = RelationGetIndexList(rel);
        facts.indexes = list_length(indexes);
        list_free(indexes);
        facts.created_in_transaction = rel->rd_createSubid != InvalidSubTransactionId;
      }
      relation_close(rel, NoLock);
    }
    UnlockRelationOid(relid, AccessShareLock);
    return;
  }
  HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
  if (!HeapTupleIsValid(tuple))
    return;
  auto *form = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple));
  if (form->reltuples > 0)
    facts.rows += form->reltuples;
  facts.heap_bytes += static_cast<double>(form->relpages) * BLCKSZ;
  ReleaseSysCache(tuple);
}

core::TableFacts table_facts(Oid relid) {
  core::TableFacts facts;
  // A partitioned or inherited table's statement acts on every child.
  List *members = find_all_inheritors(relid, NoLock, nullptr);
  ListCell *cell;
  foreach (cell, members)
    add_relation_size(lfirst_oid(cell), facts, lfirst_oid(cell) == relid);
  list_free(members);
  return facts;
}

bool names_created_table(Script &script, const RangeVar *relation) {
  ListCell *cell;
  foreach (cell, script.created) {
    auto *created = static_cast<RangeVar *>(lfirst(cell));
    if (strcmp(created->relname, relation->relname) == 0 &&
        (relation->schemaname == nullptr || created->schemaname == nullptr ||
         strcmp(created->schemaname, relation->schemaname) == 0))
      return true;
  }
  return false;
}

const char *statement_text(const char *source, int location, int length) {
  const char *start = source + (location > 0 ? location : 0);
  const int size = length > 0 ? length : static_cast<int>(strlen(start));
  char *text = pnstrdup(start, size);
  // Trim the whitespace the parser counts into a statement's text.
  while (*text == ' ' || *text == '\n' || *text == '\t' || *text == '\r')
    ++text;
  int end = static_cast<int>(strlen(text));
  while (end > 0 &&
         (text[end - 1] == ' ' || text[end - 1] == '\n' || text[end - 1] == '\t' ||
          text[end - 1] == '\r' || text[end - 1] == ';'))
    text[--end] = '\0';
  return text;
}

// SELECT colmig.f(...): the call colmig.plan() explains with f's own plan.
bool describe_colmig_call(Script &script, SelectStmt *stmt) {
  if (list_length(stmt->targetList) != 1 || stmt->fromClause != NIL)
    return false;
  auto *target = static_cast<ResTarget *>(linitial(stmt->targetList));
  if (!IsA(target->val, FuncCall))
    return false;
  auto *call = reinterpret_cast<FuncCall *>(target->val);
  if (list_length(call->funcname) != 2 ||
      strcmp(strVal(linitial(call->funcname)), "colmig") != 0)
    return false;
  DdlStep *step = add_step(script, Table{InvalidOid, nullptr, false, {}}, "colmig call");
  step->colmig_function = pstrdup(strVal(lsecond(call->funcname)));
  step->colmig_args = call->args;
  return true;
}

void describe_transaction(Script &script, TransactionStmt *stmt) {
  switch (stmt->kind) {
  case TRANS_STMT_BEGIN:
  case TRANS_STMT_START:
    script.in_block = true;
    break;
  case TRANS_STMT_COMMIT:
  case TRANS_STMT_ROLLBACK:
  case TRANS_STMT_PREPARE:
  case TRANS_STMT_COMMIT_PREPARED:
  case TRANS_STMT_ROLLBACK_PREPARED:
    script.in_block = false;
    script.not_valid_oids = NIL;
    script.not_valid_names = NIL;
    script.not_valid_modes = NIL;
    break;
  default:
    break;
  }
}

void describe_statement(Script &script, Node *node) {
  switch (nodeTag(node)) {
  case T_AlterTableStmt:
    describe_alter_table(script, reinterpret_cast<AlterTableStmt *>(node));
    break;
  case T_IndexStmt:
    describe_index(script, reinterpret_cast<IndexStmt *>(node));
    break;
  case T_DropStmt:
    describe_drop(script, reinterpret_cast<DropStmt *>(node));
    break;
  case T_ReindexStmt:
    describe_reindex(script, reinterpret_cast<ReindexStmt *>(node));
    break;
  case T_VacuumStmt:
    describe_vacuum(script, reinterpret_cast<VacuumStmt *>(node));
    break;
  case T_ClusterStmt:
    describe_cluster(script, reinterpret_cast<ClusterStmt *>(node));
    break;
  case T_TruncateStmt:
    describe_truncate(script, reinterpret_cast<TruncateStmt *>(node));
    break;
  case T_RenameStmt:
    describe_rename(script, reinterpret_cast<RenameStmt *>(node));
    break;
  case T_TransactionStmt:
    describe_transaction(script, reinterpret_cast<TransactionStmt *>(node));
    break;
  case T_CreateStmt:
    describe_create_table(script, reinterpret_cast<CreateStmt *>(node));
    break;
  case T_CreateTrigStmt:
    describe_create_trigger(script, reinterpret_cast<CreateTrigStmt *>(node));
    break;
  case T_LockStmt:
    describe_lock(script, reinterpret_cast<LockStmt *>(node));
    break;
  case T_AlterObjectSchemaStmt:
    describe_set_schema(script, reinterpret_cast<AlterObjectSchemaStmt *>(node));
    break;
  case T_RefreshMatViewStmt:
    describe_refresh(script, reinterpret_cast<RefreshMatViewStmt *>(node));
    break;
  case T_CreateTableAsStmt: {
    auto *create = reinterpret_cast<CreateTableAsStmt *>(node);
    script.created = lappend(script.created, create->into->rel);
    add_step(script, Table{InvalidOid, nullptr, false, {}},
             "CREATE TABLE AS: a new table");
    break;
  }
  case T_SelectStmt:
    if (describe_colmig_call(script, reinterpret_cast<SelectStmt *>(node)))
      break;
    add_step(script, Table{InvalidOid, nullptr, false, {}}, "not a schema change");
    break;
  default:
    if (!script.from_guard)
      add_step(script, Table{InvalidOid, nullptr, false, {}},
               "a statement colmig has no rule for");
    break;
  }
}

DdlSteps collect(Script &script) {
  DdlSteps result{nullptr, list_length(script.steps)};
  if (result.count > 0) {
    result.steps = static_cast<DdlStep *>(palloc(sizeof(DdlStep) * result.count));
    int i = 0;
    ListCell *cell;
    foreach (cell, script.steps)
      result.steps[i++] = *static_cast<DdlStep *>(lfirst(cell));
  }
  return result;
}

} // namespace

const char *text_or_null(TextMaker make, void *context) {
  MemoryContext caller = CurrentMemoryContext;
  ResourceOwner owner = CurrentResourceOwner;
  BeginInternalSubTransaction(nullptr);
  MemoryContextSwitchTo(caller);
  const char *volatile text = nullptr;
  PG_TRY();
  {
    text = make(context);
    ReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(caller);
    CurrentResourceOwner = owner;
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(caller);
    ErrorData *error = CopyErrorData();
    FlushErrorState();
    RollbackAndReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(caller);
    CurrentResourceOwner = owner;
    // A cancel or statement_timeout is the user's: raised again.
    if (ERRCODE_TO_CATEGORY(error->sqlerrcode) == ERRCODE_OPERATOR_INTERVENTION)
      ReThrowError(error);
    text = nullptr;
  }
  PG_END_TRY();
  return text;
}

const char *qualified_name(Oid relid) {
  char *name = get_rel_name(relid);
  char *schema = get_namespace_name(get_rel_namespace(relid));
  if (name == nullptr || schema == nullptr)
    return nullptr;
  return quote_qualified_identifier(schema, name);
}

Table table_by_oid(Oid relid) {
  Table table{relid, qualified_name(relid), false, {}};
  if (table.name == nullptr)
    return Table{InvalidOid, nullptr, false, {}};
  table.facts = table_facts(relid);
  return table;
}

bool table_known(Script &script, const RangeVar *relation) {
  return OidIsValid(RangeVarGetRelid(relation, NoLock, true)) ||
         names_created_table(script, relation);
}

Table find_table(Script &script, const RangeVar *relation) {
  // A table that exists is judged as it is, also when the script creates
  // one of the same name (IF NOT EXISTS, another schema, after a DROP):
  // only a name that resolves to nothing yet is the script's new table.
  const Oid relid = RangeVarGetRelid(relation, NoLock, true);
  if (!OidIsValid(relid) && names_created_table(script, relation)) {
    Table table{InvalidOid, quote_identifier(relation->relname), true, {}};
    table.facts.created_in_transaction = true;
    return table;
  }
  if (!OidIsValid(relid)) {
    if (script.from_guard)
      return Table{InvalidOid, nullptr, false, {}};
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                    errmsg("relation \"%s\" does not exist", relation->relname)));
  }
  return table_by_oid(relid);
}

DdlStep *add_step(Script &script, const Table &table, const char *action) {
  auto *step = static_cast<DdlStep *>(palloc0(sizeof(DdlStep)));
  step->statement = script.statement;
  step->action = action;
  step->relid = table.relid;
  step->table = table.name;
  step->table_facts = table.facts;
  step->facts.lock_timeout_set = LockTimeout > 0;
  script.steps = lappend(script.steps, step);
  return step;
}

void set_lock(DdlStep *step, LOCKMODE mode) {
  if (mode >= AccessShareLock && mode <= AccessExclusiveLock)
    step->facts.lock = static_cast<core::LockMode>(mode - AccessShareLock);
}

const char *literal(const char *text) { return quote_literal_cstr(text); }

const char *literal_or_null(const char *text) {
  return text == nullptr ? "NULL" : quote_literal_cstr(text);
}

const char *name_array(List *names) {
  StringInfoData out;
  initStringInfo(&out);
  appendStringInfoString(&out, "ARRAY[");
  ListCell *cell;
  foreach (cell, names) {
    if (cell != list_head(names))
      appendStringInfoString(&out, ", ");
    appendStringInfoString(&out, quote_literal_cstr(strVal(lfirst(cell))));
  }
  appendStringInfoString(&out, "]::name[]");
  return out.data;
}

} // namespace ddl

core::TableFacts read_table_facts(Oid relid) { return ddl::table_facts(relid); }

DdlSteps describe_script(const char *sql) {
  List *statements = raw_parser(sql, RAW_PARSE_DEFAULT);
  ddl::Script script{};
  ListCell *cell;
  foreach (cell, statements) {
    auto *raw = static_cast<RawStmt *>(lfirst(cell));
    script.statement = ddl::statement_text(sql, raw->stmt_location, raw->stmt_len);
    ddl::describe_statement(script, raw->stmt);
  }
  return ddl::collect(script);
}

DdlSteps describe_utility(Node *parsetree, const char *source, int location, int length) {
  ddl::Script script{};
  script.from_guard = true;
  script.statement = ddl::statement_text(source, location, length);
  ddl::describe_statement(script, parsetree);
  return ddl::collect(script);
}

const char *const kNotALiteral = "(an expression)";

const char *call_argument(const DdlStep &step, const char *name, int position,
                          bool *is_set) {
  *is_set = false;
  int index = 0;
  ListCell *cell;
  foreach (cell, step.colmig_args) {
    Node *arg = static_cast<Node *>(lfirst(cell));
    bool matches = false;
    if (IsA(arg, NamedArgExpr)) {
      auto *named = reinterpret_cast<NamedArgExpr *>(arg);
      matches = strcmp(named->name, name) == 0;
      arg = reinterpret_cast<Node *>(named->arg);
    } else {
      matches = index == position;
    }
    ++index;
    if (!matches)
      continue;
    *is_set = true;
    while (IsA(arg, TypeCast))
      arg = reinterpret_cast<TypeCast *>(arg)->arg;
    if (!IsA(arg, A_Const))
      return kNotALiteral; // not a value colmig.plan() can read
    auto *value = reinterpret_cast<A_Const *>(arg);
    if (value->isnull)
      return nullptr;
    switch (nodeTag(&value->val)) {
    case T_String:
      return strVal(&value->val);
    case T_Boolean:
      return boolVal(&value->val) ? "true" : "false";
    case T_Integer:
      return psprintf("%d", intVal(&value->val));
    case T_Float:
      return castNode(Float, &value->val)->fval;
    default:
      return "?";
    }
  }
  return nullptr;
}

} // namespace colmig::pg
