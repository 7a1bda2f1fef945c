# Shared by test/run and demo/run: installs what colmig needs on Debian 12,
# builds and installs the extension. Must run as root.

COLMIG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PG_BIN=/usr/lib/postgresql/15/bin
export PATH="$PG_BIN:$PATH"

log() { printf '\n== %s\n' "$*"; }

require_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "run this as root: it installs packages and the extension" >&2
    exit 2
  fi
}

# Extra package names may be given (the demo needs bc).
install_dependencies() {
  local packages=(postgresql-15 postgresql-client-15 postgresql-server-dev-15
                  postgresql-15-cron libipc-run-perl libboost-dev libgtest-dev
                  cmake g++ make "$@")
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# Citus, for test/t/018_citus.pl and test/bench/citus_backfill: a test
# dependency, never part of colmig. Not in Debian 12, so built once from the
# source kept in ../shared/citus (about two minutes on 2 cores) when it is
# not installed. Where the source is missing or the build fails, the test
# that needs it says it was skipped and why.
install_citus() {
  local libdir source dir
  libdir=$(pg_config --pkglibdir)
  [ -e "$libdir/citus.so" ] && return 0
  source=${COLMIG_CITUS_SOURCE:-$COLMIG_ROOT/../shared/citus/citus-13.0.5.tar.gz}
  if [ ! -f "$source" ]; then
    log "Citus: no $source here, the Citus tests will be skipped"
    return 0
  fi
  install_dependencies liblz4-dev libzstd-dev libcurl4-openssl-dev libkrb5-dev
  log "building Citus from $source (a test dependency, about two minutes)"
  dir=$(mktemp -d /tmp/citus-build.XXXXXX)
  if tar -xzf "$source" -C "$dir" &&
     (cd "$dir" && ./configure && make -j"$(nproc)" && make install) >"$dir.log" 2>&1; then
    rm -rf "$dir" "$dir.log"
  else
    log "Citus did not build (see $dir.log): the Citus tests will be skipped"
  fi
}

build_and_install() {
  log "building and installing colmig"
  make -C "$COLMIG_ROOT" -s -j"$(nproc)" >/dev/null
  make -C "$COLMIG_ROOT" -s install >/dev/null
}

# A copy of the tree the postgres user can write to (PostgreSQL refuses to
# run as root, and pg_regress writes its results next to the tests).
make_work_copy() {
  local dir
  dir=$(mktemp -d /tmp/colmig-work.XXXXXX)
  (cd "$COLMIG_ROOT" && tar --exclude=./build --exclude=./.git -cf - .) | tar -xf - -C "$dir"
  chown -R postgres:postgres "$dir"
  echo "$dir"
}

as_postgres() { runuser -u postgres -- "$@"; }
