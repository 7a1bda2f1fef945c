#include "pg/guc_scope.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "utils/guc.h"
}

namespace colmig::pg {

GucScope::GucScope() : nest_level_(NewGUCNestLevel()) {}

GucScope::~GucScope() {
  // isCommit = false: every change made inside the scope is undone, also a
  // plain SET (set_config(..., false)) by the job's own SQL, which would
  // otherwise outlive the scope and steer the worker's later statements,
  // as REFRESH MATERIALIZED VIEW does for its restricted operation.
  AtEOXact_GUC(false, nest_level_);
}

void GucScope::set(const char *name, const char *value) {
  call([&] {
    (void)set_config_option(name, value, PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE, true,
                            0, false);
  });
}

} // namespace colmig::pg
