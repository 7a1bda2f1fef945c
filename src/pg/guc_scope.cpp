#include "pg/guc_scope.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "utils/guc.h"
}

namespace colmig::pg {

GucScope::GucScope() : nest_level_(NewGUCNestLevel()) {}

GucScope::~GucScope() {
  // Popping the nest level only restores saved values; it does not ereport
  // for settings we made ourselves.
  AtEOXact_GUC(true, nest_level_);
}

void GucScope::set(const char *name, const char *value) {
  call([&] {
    (void)set_config_option(name, value, PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE, true,
                            0, false);
  });
}

} // namespace colmig::pg
