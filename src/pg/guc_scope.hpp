// GUC settings that last as long as a C++ scope, like a function's SET
// clause: a new GUC nest level, popped again on destruction. Used to pin
// search_path for colmig's own catalog statements and to run a job's SQL in
// the search_path its creator had.
#pragma once

#include "pg/postgres.hpp"

namespace colmig::pg {

class GucScope {
public:
  GucScope();
  ~GucScope();
  GucScope(const GucScope &) = delete;
  GucScope &operator=(const GucScope &) = delete;

  void set(const char *name, const char *value);

private:
  int nest_level_;
};

// colmig's own statements run with only pg_catalog (and pg_temp last) in
// the path, so no object a user created can stand in for a built-in one.
inline constexpr const char *kSafeSearchPath = "pg_catalog, pg_temp";

} // namespace colmig::pg
