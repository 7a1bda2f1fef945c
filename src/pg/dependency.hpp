// Ties an object colmig creates at run time to the extension, so that
// DROP EXTENSION colmig refuses while it exists and CASCADE removes it
// (with whatever depends on it, e.g. a fill function's triggers).
#pragma once

#include "pg/postgres.hpp"

namespace colmig::pg {

// Records that function `function_oid` depends on extension `name`; call
// it after each CREATE OR REPLACE of the function.
void function_depends_on_extension(Oid function_oid, const char *name);

} // namespace colmig::pg
