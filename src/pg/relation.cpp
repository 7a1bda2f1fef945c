#include "pg/relation.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
}

namespace colmig::pg {

std::optional<std::string> lock_relation(Oid relid, LOCKMODE mode) {
  const char *name = call([&]() -> const char * {
    LockRelationOid(relid, mode);
    // LockRelationOid has processed the invalidations of whatever
    // committed before we got the lock, a DROP included.
    if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid))) {
      UnlockRelationOid(relid, mode);
      return nullptr;
    }
    return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
                                      get_rel_name(relid));
  });
  if (name == nullptr)
    return std::nullopt;
  return std::string(name);
}

Oid relation_owner(Oid relid) {
  return call([&] {
    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
    if (!HeapTupleIsValid(tuple))
      return InvalidOid;
    const Oid owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relowner;
    ReleaseSysCache(tuple);
    return owner;
  });
}

std::optional<std::string> column_name(Oid relid, AttrNumber attnum) {
  const char *name = call([&]() -> const char * {
    HeapTuple tuple =
        SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum));
    if (!HeapTupleIsValid(tuple))
      return nullptr;
    auto *attribute = reinterpret_cast<Form_pg_attribute>(GETSTRUCT(tuple));
    const char *quoted =
        attribute->attisdropped ? nullptr : quote_identifier(NameStr(attribute->attname));
    if (quoted != nullptr)
      quoted = pstrdup(quoted);
    ReleaseSysCache(tuple);
    return quoted;
  });
  if (name == nullptr)
    return std::nullopt;
  return std::string(name);
}

std::optional<AttrNumber> column_number(Oid relid, const std::string &name) {
  const char *raw = name.c_str();
  AttrNumber attnum = call([&] { return get_attnum(relid, raw); });
  if (attnum == InvalidAttrNumber)
    return std::nullopt;
  return attnum;
}

Oid relation_filenode(Oid relid) {
  return call([&] {
    Relation rel = try_table_open(relid, AccessShareLock);
    if (rel == nullptr)
      return InvalidOid;
    Oid filenode = rel->rd_node.relNode;
    table_close(rel, NoLock);
    return filenode;
  });
}

bool has_inheritance_children(Oid relid) {
  return call([&] { return find_inheritance_children(relid, NoLock) != NIL; });
}

std::string deparse_expression(const std::string &stored) {
  const char *text = stored.c_str();
  return std::string(call([&] {
    Node *expr = static_cast<Node *>(stringToNode(text));
    return ::deparse_expression(expr, NIL, false, false);
  }));
}

namespace {

std::string deparse_over(const std::string &stored, Oid relid, bool show_implicit) {
  const char *text = stored.c_str();
  return std::string(call([&] {
    Node *expr = static_cast<Node *>(stringToNode(text));
    List *context = deparse_context_for(get_rel_name(relid), relid);
    return ::deparse_expression(expr, context, false, show_implicit);
  }));
}

} // namespace

std::string deparse_expression_for(const std::string &stored, Oid relid) {
  return deparse_over(stored, relid, false);
}

std::string deparse_expression_exactly(const std::string &stored, Oid relid) {
  return deparse_over(stored, relid, true);
}

} // namespace colmig::pg
