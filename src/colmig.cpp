// Module entry: settings and the DDL guard everywhere; the launcher and its shared memory
// only when colmig is in shared_preload_libraries.
#include "guard/ddl_guard.hpp"
#include "guc.hpp"
#include "ipc/shared_state.hpp"
#include "ipc/start.hpp"

extern "C" {
PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);
}

void _PG_init(void) {
  colmig::guc::define_all();
  colmig::ipc::register_commit_callback();
  colmig::guard::install_hook();
  if (!process_shared_preload_libraries_in_progress)
    return;
  colmig::ipc::install_shmem_hooks();
  colmig::ipc::register_launcher_worker();
}
