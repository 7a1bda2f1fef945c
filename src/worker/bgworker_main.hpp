// The guard around a background worker's main: C++ exceptions end the
// process with a FATAL carrying their message, raised after every C++
// frame below has unwound. PostgreSQL errors with no handler of ours
// already end the worker as FATAL.
#pragma once

#include "pg/error.hpp"
#include "pg/postgres.hpp"

#include <exception>
#include <string>

namespace colmig::worker {

[[noreturn]] void exit_with_fatal(const char *message);

template <typename F> void run_bgworker(F &&main_loop) {
  char message[512] = "";
  try {
    main_loop();
    return;
  } catch (const std::exception &e) {
    snprintf(message, sizeof(message), "%s", e.what());
  } catch (...) {
    snprintf(message, sizeof(message), "unknown C++ exception");
  }
  exit_with_fatal(message);
}

// Signal set-up shared by the launcher and the job worker (SIGHUP reloads,
// SIGTERM ends the process at the next CHECK_FOR_INTERRUPTS).
void setup_signals();
// What every colmig worker does first: its signals, and leaving the DDL
// guard out of its own steps (they run under lock_timeout with retries).
void setup_worker();

} // namespace colmig::worker
