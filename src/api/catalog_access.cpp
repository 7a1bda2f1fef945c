#include "api/catalog_access.hpp"

#include <string>

extern "C" {
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

namespace colmig::api {

CatalogAccess::CatalogAccess() : caller_(GetUserId()) {
  settings_.set("search_path", pg::kSafeSearchPath);
  pg::execute("SELECT relowner::int8 FROM pg_catalog.pg_class "
              "WHERE oid = 'colmig.jobs'::pg_catalog.regclass");
  as_owner_.emplace(static_cast<Oid>(*pg::get_int64(0, 0)));
}

bool CatalogAccess::caller_controls(Oid owner) {
  Oid caller = caller_;
  if (pg::call([&] { return has_privs_of_role(caller, owner) || superuser_arg(caller); }))
    return true;
  // The admin roles colmig trusts (colmig.admin_roles), by OID: a role
  // dropped and created again under the same name is not one of them.
  pg::execute("SELECT role_oid::int8 FROM colmig.admin_roles a "
              "JOIN pg_catalog.pg_roles r ON r.oid = a.role_oid");
  for (std::uint64_t row = 0; row < pg::result_rows(); ++row) {
    const auto admin = static_cast<Oid>(*pg::get_int64(row, 0));
    if (pg::call([&] { return is_member_of_role(caller, admin); }))
      return true;
  }
  return false;
}

std::string text_argument(FunctionCallInfo fcinfo, int index) {
  return pg::call([&] { return text_to_cstring(PG_GETARG_TEXT_PP(index)); });
}

std::optional<std::string> optional_text_argument(FunctionCallInfo fcinfo, int index) {
  if (PG_ARGISNULL(index))
    return std::nullopt;
  return text_argument(fcinfo, index);
}

std::optional<std::string> optional_datum_text(FunctionCallInfo fcinfo, int index) {
  if (PG_ARGISNULL(index))
    return std::nullopt;
  return std::string(pg::call([&] {
    Oid type = get_fn_expr_argtype(fcinfo->flinfo, index);
    Oid output;
    bool varlena;
    getTypeOutputInfo(type, &output, &varlena);
    return OidOutputFunctionCall(output, PG_GETARG_DATUM(index));
  }));
}

void require_argument(FunctionCallInfo fcinfo, int index, const char *name) {
  if (PG_ARGISNULL(index))
    pg::raise("22004", std::string(name) + " must not be NULL");
}

} // namespace colmig::api
