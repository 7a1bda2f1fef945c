#include "pg/latch.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "pgstat.h"
#include "postmaster/interrupt.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/wait_event.h"
}

namespace colmig::pg {

bool wait_for_latch(long timeout_ms) {
  call([&] {
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, timeout_ms,
                    PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    CHECK_FOR_INTERRUPTS();
  });
  return reload_config_if_pending();
}

bool reload_config_if_pending() {
  if (!ConfigReloadPending)
    return false;
  ConfigReloadPending = false;
  call([] { ProcessConfigFile(PGC_SIGHUP); });
  return true;
}

} // namespace colmig::pg
