#include "worker/bgworker_main.hpp"

#include "guard/ddl_guard.hpp"
#include "pg/guard.hpp"

extern "C" {
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "tcop/tcopprot.h"
}

namespace colmig::worker {

void exit_with_fatal(const char *message) {
  ereport(FATAL, (errmsg("colmig: %s", message)));
  pg_unreachable();
}

void setup_signals() {
  pqsignal(SIGHUP, SignalHandlerForConfigReload);
  pqsignal(SIGTERM, die);
  BackgroundWorkerUnblockSignals();
}

void setup_worker() {
  setup_signals();
  guard::exempt_this_process();
}

} // namespace colmig::worker
