// colmig.guard (docs/guard.md): every DDL statement that could block a
// large table is judged before it runs, from any client, and warned about
// or refused with the colmig call that does the same online.
//
// A ProcessUtility_hook rather than an event trigger: event triggers do
// not fire for VACUUM, CLUSTER, TRUNCATE or REINDEX, and need an object in
// every database; the hook sees every utility statement, from psql, an
// ORM or a function, wherever colmig's library is loaded.
#pragma once

namespace colmig::guard {

// From _PG_init, once per process.
void install_hook();

// colmig's own background workers take their locks with lock_timeout and
// retries: the guard never checks them.
void exempt_this_process();

} // namespace colmig::guard
