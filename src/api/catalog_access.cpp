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
  return pg::call([&] {
    return has_privs_of_role(caller, owner) || superuser_arg(caller) ||
           is_member_of_role(caller, get_role_oid("colmig_admin", false));
  });
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
