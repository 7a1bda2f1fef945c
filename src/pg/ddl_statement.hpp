// What a DDL statement would do to the live tables it names, read with
// PostgreSQL's own parser and catalog: the steps colmig.plan() shows and
// the guard judges (core/ddl_rules.hpp decides the verdicts). Nothing here
// locks a table so that anybody waits: sizes are read under an ACCESS SHARE
// lock taken only when it is free at once, and released again.
// Plain C-level code: call it inside pg::call.
#pragma once

#include "core/ddl_rules.hpp"

#include "pg/postgres.hpp"

extern "C" {
#include "nodes/parsenodes.h"
#include "storage/lockdefs.h"
}

namespace colmig::pg {

// One step of a statement: the statement itself, or one subcommand of an
// ALTER TABLE. Everything is palloc'd in the caller's memory context.
struct DdlStep {
  const char *statement; // its text as written
  const char *action;    // what the step does, e.g. "ADD COLUMN \"at\" timestamptz"
  Oid relid;             // the table it locks, InvalidOid for none
  const char *table;     // that table's qualified name, for messages
  core::StatementFacts facts;
  core::TableFacts table_facts;
  // A fact of this step worth a sentence in the note ("the column is
  // already NOT NULL"), or null.
  const char *remark;
  // The colmig call or SQL that does the same without blocking, or null;
  // `advice` says what to do when there is none.
  const char *alternative;
  const char *advice;
  // SET NOT NULL: the column, and whether it has a default (inserts that
  // leave it out get that); 0 for other steps.
  AttrNumber not_null_attnum;
  bool column_has_default;
  // A `SELECT colmig.f(...)` call: f's name, its arguments (a list of
  // NamedArgExpr-like pairs, see call_argument), else null.
  const char *colmig_function;
  List *colmig_args;
  // The privilege that lets a role other than the table's owner run the
  // step (ACL_TRUNCATE for TRUNCATE); 0: only the owner may.
  AclMode non_owner_privilege;
  // The lock the statement requests when the rows are read under another
  // one the transaction holds (VALIDATE after ADD ... NOT VALID); the
  // request may still queue. NoLock: the step's own lock.
  LOCKMODE requested_lock;
};

struct DdlSteps {
  DdlStep *steps;
  int count;
};

// Every statement of `sql` (42601 for a syntax error). Statements between
// BEGIN and COMMIT of the script count as one transaction; a table the
// script creates is new (empty, unseen by others) for the statements
// after it. A table that does not exist otherwise raises 42P01.
DdlSteps describe_script(const char *sql);

// The statement the guard sees: `parsetree` as ProcessUtility received it,
// its text in `source` at `location`/`length` (length 0: to the end). A
// table that does not exist gives no step: PostgreSQL reports that itself.
DdlSteps describe_utility(Node *parsetree, const char *source, int location, int length);

// The text of argument `name` (or the `position`th, counted from 0, given
// without a name) of a colmig call, as the literal the caller wrote: null
// when absent or NULL. `is_set` tells an absent argument from NULL.
// An argument written as an expression, not a constant, is kNotALiteral
// (compared by address).
const char *call_argument(const DdlStep &step, const char *name, int position,
                          bool *is_set);
extern const char *const kNotALiteral;

// For the plan of a colmig call: the table a regclass literal names
// (InvalidOid when none), its live facts, whether an expression text is
// volatile (ADD COLUMN would rewrite with it as DEFAULT), and whether a
// valid CHECK proves a column NOT NULL.
Oid table_of_literal(const char *regclass_text);
core::TableFacts read_table_facts(Oid relid);
bool expression_text_is_volatile(const char *expression);
bool column_not_null_proven(Oid relid, const char *column);

} // namespace colmig::pg
