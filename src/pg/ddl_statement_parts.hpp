// The pieces of pg/ddl_statement.cpp shared by its files: the state of a
// script read statement by statement, a table's live facts, and the
// analyses of a column change. Internal to src/pg.
#pragma once

#include "pg/ddl_statement.hpp"

extern "C" {
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "nodes/primnodes.h"
#include "parser/parse_node.h"
#include "storage/lockdefs.h"
#include "utils/relcache.h"
}

namespace colmig::pg::ddl {

struct Script {
  List *steps; // of DdlStep *
  // Tables created earlier in the script: they are empty, and unseen by
  // other sessions while in the same transaction block.
  List *created; // of char * (qualified names as written)
  bool in_block; // between BEGIN and COMMIT of the script
  // (relid, constraint name) pairs added NOT VALID in the current block.
  List *not_valid_oids;
  List *not_valid_names;
  List *not_valid_modes; // the lock each took (LOCKMODE)
  bool from_guard;       // the statement runs now: a missing table is PostgreSQL's error
  const char *statement;
};

// A table as a statement names it.
struct Table {
  Oid relid; // InvalidOid: created by the script, or missing (then skip)
  const char *name;
  bool new_in_script;
  core::TableFacts facts;
};

// Looks `relation` up without a lock; a table the script created is new.
// Missing: 42P01 for plan(), Table{InvalidOid} for the guard.
Table find_table(Script &script, const RangeVar *relation);
Table table_by_oid(Oid relid);
// Runs make(context) in a subtransaction of its own: the text it returns,
// or null when it raised an error (an alternative that names a column the
// script adds, say): the step keeps its rule, without the text. A cancel
// or statement_timeout is raised again.
using TextMaker = const char *(*)(void *context);
const char *text_or_null(TextMaker make, void *context);
// "schema"."table" as quote_qualified_identifier writes it; null once gone.
const char *qualified_name(Oid relid);
// The table exists, or the script created it (for IF EXISTS).
bool table_known(Script &script, const RangeVar *relation);

DdlStep *add_step(Script &script, const Table &table, const char *action);
void set_lock(DdlStep *step, LOCKMODE mode);

// SQL text helpers.
const char *literal(const char *text);         // 'text', quoted
const char *literal_or_null(const char *text); // NULL when null
const char *name_array(List *names);           // ARRAY['a','b']::name[] of String nodes

// Column analyses (ddl_column_change.cpp).
struct ColumnDefault {
  bool present;
  bool is_volatile;
  const char *text; // deparsed, for the colmig call
};
ColumnDefault analyse_default(Relation rel, Node *raw_default, Oid type, int32 typmod);
// Whether ALTER COLUMN ... TYPE rewrites the table, as tablecmds.c decides.
enum class TypeChange { keeps_values, rewrites, refused, unknown };
TypeChange type_change_rewrites(Relation rel, AttrNumber attnum, Oid new_type,
                                int32 new_typmod, Node *raw_using);
// How many of `rel`'s indexes a type change of column `attnum` that keeps
// its values still rebuilds (as TryReuseIndex decides: a new collation or
// operator family, or any expression or partial index, which colmig does
// not read and assumes depends on the column).
int indexes_rebuilt_by_type_change(Relation rel, AttrNumber attnum, Oid new_type,
                                   Oid new_collation);
// An index's access method (pg_class.relam).
Oid access_method_of(Oid index);
// Whether a valid CHECK constraint reads the column: a type change drops
// and adds it again, and PostgreSQL checks every row.
bool checks_read_column(Relation rel, AttrNumber attnum);
// An expression of `rel`'s columns, analysed and deparsed ("(v > 0)").
const char *deparse_table_expression(Relation rel, Node *raw, ParseExprKind kind);
// The key list of an index as colmig.create_index() takes it.
const char *deparse_index_columns(Relation rel, List *index_params);

// An ALTER TABLE's table, as each of its subcommands sees it: opened
// (under ACCESS SHARE, taken only when free at once) when it exists.
struct Target {
  Script &script;
  Table table;
  Relation rel; // null: new in the script, or locked by someone else now
};
const char *table_name(const Target &target);

// ALTER TABLE ... ADD CONSTRAINT and VALIDATE CONSTRAINT (ddl_constraints.cpp).
void add_constraint(Target &target, AlterTableCmd *cmd);
void validate_constraint(Target &target, AlterTableCmd *cmd);

// ALTER TABLE ... ATTACH PARTITION (ddl_table_links.cpp).
void attach_partition(Target &target, AlterTableCmd *cmd);

// Statement kinds (ddl_alter_table.cpp, ddl_other_statements.cpp,
// ddl_table_links.cpp, ddl_lock_statements.cpp).
void describe_alter_table(Script &script, AlterTableStmt *stmt);
void describe_index(Script &script, IndexStmt *stmt);
void describe_drop(Script &script, DropStmt *stmt);
void describe_reindex(Script &script, ReindexStmt *stmt);
void describe_vacuum(Script &script, VacuumStmt *stmt);
void describe_cluster(Script &script, ClusterStmt *stmt);
void describe_truncate(Script &script, TruncateStmt *stmt);
void describe_create_table(Script &script, CreateStmt *stmt);
void describe_create_trigger(Script &script, CreateTrigStmt *stmt);
void describe_drop_trigger(Script &script, DropStmt *stmt);
void describe_lock(Script &script, LockStmt *stmt);
void describe_set_schema(Script &script, AlterObjectSchemaStmt *stmt);
void describe_refresh(Script &script, RefreshMatViewStmt *stmt);
void describe_rename(Script &script, RenameStmt *stmt);

} // namespace colmig::pg::ddl
