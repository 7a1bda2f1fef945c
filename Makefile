# PGXS build of the colmig extension: `make && make install`.
# Tests: `make installcheck` (pg_regress, isolation and TAP against a
# temporary instance); test/run drives the whole suite as root.

MODULE_big = colmig
EXTENSION = colmig
DATA = src/sql/colmig--0.1.sql src/sql/colmig--0.1--0.2.sql src/sql/colmig--0.2--0.3.sql \
       src/sql/colmig--0.3--0.4.sql src/sql/colmig--0.4--0.5.sql

# One line per layer, lowest first (docs/development.md); a directory that
# does not exist yet adds nothing.
SRCS = $(sort $(wildcard src/*.cpp \
                         src/core/*.cpp src/core/operations/*.cpp \
                         src/pg/*.cpp \
                         src/catalog/*.cpp \
                         src/ipc/*.cpp \
                         src/guard/*.cpp \
                         src/api/*.cpp \
                         src/runner/*.cpp src/runner/steps/*.cpp \
                         src/worker/*.cpp))
OBJS = $(SRCS:.cpp=.o)

PG_CPPFLAGS = -I$(srcdir)/src
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Werror -Wno-unused-parameter \
              -Wno-missing-field-initializers -Wno-register
SHLIB_LINK = -lstdc++

# Every test runs against a throwaway instance that preloads colmig.
TEMP_CONFIG = $(abspath test/colmig.conf)
REGRESS = setup add_column_errors add_column_fast add_column_backfill expressions identity \
          proof app_writes job_control progress security drop constraints indexes parallel \
          operation_control guard citus_absent
REGRESS_OPTS = --temp-instance=$(abspath tmp_check_regress) \
               --temp-config=$(TEMP_CONFIG) --load-extension=colmig
ISOLATION = lock_retry lock_retry_exhausted row_locks validate_dml index_build_dml fk_referenced_lock \
            guard_lock_queue
ISOLATION_OPTS = --temp-instance=$(abspath tmp_check_isolation) \
                 --temp-config=$(TEMP_CONFIG) --load-extension=colmig \
                 --inputdir=test/isolation --outputdir=output_iso
TAP_TESTS = 1

EXTRA_CLEAN = tmp_check_regress tmp_check_isolation output_iso results regression.* \
              compile_commands.json

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS's C++ rule does not know our dependency layout; rebuild objects when
# any header changes.
$(OBJS): $(wildcard src/*.hpp src/*/*.hpp src/*/*/*.hpp)

# The LLVM bitcode (for JIT inlining) is built by clang, which needs the
# language level too.
BITCODE_CXXFLAGS += -std=c++17 -Wno-register -I$(srcdir)/src
