// The SQL functions validate as the caller, then read and write
// colmig.jobs (closed to PUBLIC) as its owner, with search_path pinned so
// that no object of the caller's can stand in for a built-in one.
#pragma once

#include "pg/guc_scope.hpp"
#include "pg/spi.hpp"
#include "pg/transaction.hpp"

#include <optional>

namespace colmig::api {

class CatalogAccess {
public:
  CatalogAccess();

  // Whether the calling user may see and control a job owned by `owner`.
  bool caller_controls(Oid owner);

private:
  Oid caller_;
  pg::SpiConnection spi_;
  pg::GucScope settings_;
  std::optional<pg::AsRole> as_owner_;
};

// The raw argument helpers shared by the SQL functions.
std::string text_argument(FunctionCallInfo fcinfo, int index);
std::optional<std::string> optional_text_argument(FunctionCallInfo fcinfo, int index);
// Any argument as its type's text output (e.g. a time), or nothing if NULL.
std::optional<std::string> optional_datum_text(FunctionCallInfo fcinfo, int index);
void require_argument(FunctionCallInfo fcinfo, int index, const char *name);

} // namespace colmig::api
