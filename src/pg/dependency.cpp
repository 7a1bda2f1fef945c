#include "pg/dependency.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "catalog/dependency.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_proc.h"
#include "commands/extension.h"
}

namespace colmig::pg {

void function_depends_on_extension(Oid function_oid, const char *name) {
  call([&] {
    ObjectAddress function = {ProcedureRelationId, function_oid, 0};
    ObjectAddress extension = {ExtensionRelationId, get_extension_oid(name, false), 0};
    // Called right after CREATE OR REPLACE FUNCTION, which drops the
    // function's earlier normal dependencies: recorded once per creation.
    recordDependencyOn(&function, &extension, DEPENDENCY_NORMAL);
  });
}

} // namespace colmig::pg
