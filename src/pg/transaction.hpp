// The worker's unit of work: one top-level transaction with SPI connected
// and a snapshot pushed (the worker_spi skeleton), committed when `work`
// returns and aborted, with SPI and locks released, when it throws.
#pragma once

#include "pg/guard.hpp"

namespace colmig::pg {

void begin_transaction(const char *activity);
void commit_transaction();
void abort_transaction();

template <typename F> void in_transaction(const char *activity, F &&work) {
  try {
    // Inside the try: a begin that fails after StartTransactionCommand
    // must be rolled back too (aborting when idle does nothing).
    begin_transaction(activity);
    work();
    commit_transaction();
  } catch (...) {
    abort_transaction();
    throw;
  }
}

// Sets a GUC for the rest of the current transaction only (SET LOCAL).
void set_local(const char *name, const char *value);

// statement_timeout for the statements run while this object lives. The
// statement_timeout setting alone does nothing in a background worker: only
// the protocol loop of a client backend arms the timer.
class StatementTimeout {
public:
  explicit StatementTimeout(int milliseconds);
  ~StatementTimeout();
  StatementTimeout(const StatementTimeout &) = delete;
  StatementTimeout &operator=(const StatementTimeout &) = delete;
};

// Runs statements as `role` until destroyed: the job's owner, never the
// superuser the worker connects as. Restricted like REFRESH MATERIALIZED
// VIEW: the job's SQL cannot SET ROLE its way back.
class AsRole {
public:
  explicit AsRole(Oid role);
  ~AsRole();
  AsRole(const AsRole &) = delete;
  AsRole &operator=(const AsRole &) = delete;

private:
  Oid saved_user_;
  int saved_context_;
};

} // namespace colmig::pg
