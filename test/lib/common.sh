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
