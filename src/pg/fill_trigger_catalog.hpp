// The fill trigger of a job, in the catalog: created, looked at, dropped,
// always by OID. C-level helpers: call them inside pg::call.
//
// It is an internal trigger (like the ones PostgreSQL makes for foreign
// keys): pg_dump does not dump it, so a restored database never has a fill
// trigger without its job, and ALTER TABLE ... DISABLE TRIGGER USER leaves
// it alone. It fires ALWAYS, also for rows written with
// session_replication_role = replica (logical replication, some restore
// tools).
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "access/attnum.h"
#include "utils/reltrigger.h"
}

#include <cstdint>

namespace colmig::pg {

struct TriggerIdentity {
  Oid oid;
  // The raw xmin of its pg_trigger row: any change to the trigger
  // (disabled, renamed, re-enabled) writes a new row version.
  TransactionId xmin;
};

// On `relid` (locked by the caller): BEFORE INSERT OR UPDATE FOR EACH ROW,
// colmig.fill_column(job_id, attnum, owner, expression, settings...) with
// the values of core::kEvaluationSettings, in their order.
TriggerIdentity create_fill_trigger(Oid relid, std::int64_t job_id, AttrNumber attnum,
                                    Oid owner, const char *expression,
                                    const char *const *settings, int setting_count);

// The trigger's catalog row now.
struct TriggerRow {
  bool exists;
  bool fires_always;
  TransactionId xmin;
};
TriggerRow read_fill_trigger(Oid trigger_oid);

// Drops it if it exists and is a colmig fill trigger on `relid` (locked
// by the caller).
void drop_fill_trigger(Oid trigger_oid, Oid relid);

// Whether `triggers` (a table's, in the order PostgreSQL fires them) hold a
// BEFORE row trigger of a user's (not internal, not disabled) for one of
// `events` (TRIGGER_TYPE_INSERT, TRIGGER_TYPE_UPDATE) after the trigger
// `fill_trigger`: its changes to a row come after the fill. By position,
// not by name: the fill trigger may have been renamed.
bool before_trigger_fires_after(const TriggerDesc *triggers, Oid fill_trigger,
                                int events);

// The same for the table `relid` now, for inserts and updates.
bool has_triggers_after_fill(Oid relid, Oid fill_trigger);

// Whether a trigger is one of colmig's fill triggers: internal, calling
// colmig.fill_column(). Known by what it runs, not by its name, which its
// table's owner may change.
bool is_fill_trigger(bool internal, Oid function);

} // namespace colmig::pg
