// colmig.pace(): where a backfill batch statement gives back the CPU.
// Called once per row by the batch (runner/statements.cpp); returns true so
// it can stand in a WHERE clause. Outside a batch it does nothing.
#include "pg/guard.hpp"
#include "pg/pacing.hpp"

COLMIG_SQL_FUNCTION(colmig_pace) {
  colmig::pg::rest_if_due();
  PG_RETURN_BOOL(true);
}
