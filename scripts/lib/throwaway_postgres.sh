# shellcheck shell=bash
# A throw-away PostgreSQL server for test scripts (bash; source this file).
#
#   . scripts/lib/throwaway_postgres.sh
#   trap pg_stop EXIT                      # safe before pg_start, and twice
#   pg_start "$work/pg" 10.9.8.1 || exit 77
#   pg_createdb study_a
#   url=$(pg_url 10.9.8.1 study_a)         # postgresql://lrtune@10.9.8.1:PORT/study_a
#   pg_psql study_a -c 'SELECT count(*) FROM trials'
#   pg_restart                             # pg_ctl restart -m fast, same port
#
# pg_start DIR [ADDRESS...]
#   initdb into DIR/data (user lrtune, trust authentication, UTF8, C locale,
#   --no-sync) and starts the server on a free port, listening on 127.0.0.1
#   and the given addresses (space- or comma-separated; they must already be
#   on an interface), with its socket and log (server.log) in DIR, fsync
#   off, and pg_hba.conf trusting each address's /24. Sets PG_DIR, PG_PORT
#   and PG_BIN. As root the server runs as the `postgres` user (initdb
#   refuses root): DIR is handed to it, so every folder above DIR must be
#   searchable by others. Returns 1, saying why on stderr, when the server
#   binaries are missing ($LRTUNE_PG_BIN, else the newest
#   /usr/lib/postgresql/*/bin) or the server does not start.
# pg_createdb NAME        CREATE DATABASE NAME
# pg_url HOST NAME        prints postgresql://lrtune@HOST:PG_PORT/NAME
# pg_psql NAME ARGS...    psql on database NAME as lrtune, unaligned, tuples
#                         only, quiet, stopping at the first error
# pg_restart              pg_ctl restart -m fast (same port and settings)
# pg_stop                 pg_ctl stop -m immediate; does nothing when no
#                         server runs, never fails: fit for an EXIT trap
#
# The server and its folder are left for the caller to remove (rm -rf DIR
# after pg_stop), so that a failing test can keep its server log.

PG_DIR=
PG_PORT=
PG_BIN=
_pg_running=0
_pg_as_owner=()

_pg_say() { echo "throwaway_postgres: $*" >&2; }

# Runs a PostgreSQL program as the cluster's owner, from inside PG_DIR (the
# caller's folder may be closed to the postgres user).
_pg_run() { (cd "$PG_DIR" && "${_pg_as_owner[@]}" "$@"); }

# A TCP port nobody listens on now (the kernel's pick, if python3 is there).
_pg_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])' \
    2>/dev/null || echo $((20000 + RANDOM % 30000))
}

pg_start() {
  local dir=${1:?pg_start: DIR missing} list addr listen=127.0.0.1 nets=() net attempt
  shift
  PG_BIN=${LRTUNE_PG_BIN:-}
  if [[ -z $PG_BIN ]]; then
    PG_BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  if [[ ! -x $PG_BIN/initdb || ! -x $PG_BIN/pg_ctl || ! -x $PG_BIN/psql ]]; then
    _pg_say "PostgreSQL server binaries missing: no initdb, pg_ctl or psql in ${PG_BIN:-/usr/lib/postgresql/*/bin}" \
      "(install the postgresql package, or set LRTUNE_PG_BIN)"
    return 1
  fi
  if ! mkdir -p "$dir"; then
    _pg_say "cannot create $dir"
    return 1
  fi
  PG_DIR=$(cd "$dir" && pwd)
  _pg_as_owner=()
  if ((EUID == 0)); then
    if ! id postgres >/dev/null 2>&1; then
      _pg_say "running as root and there is no postgres user to run the server as"
      return 1
    fi
    chown postgres: "$PG_DIR" || return 1
    _pg_as_owner=(runuser -u postgres --)
    if ! runuser -u postgres -- test -w "$PG_DIR"; then
      _pg_say "the postgres user cannot reach $PG_DIR (a folder above it is closed to others)"
      return 1
    fi
  fi
  if ! _pg_run "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U lrtune -E UTF8 --locale=C \
    --no-sync --no-instructions >"$PG_DIR/initdb.log" 2>&1; then
    _pg_say "initdb failed: $(tail -n 5 "$PG_DIR/initdb.log")"
    return 1
  fi
  for list in "$@"; do
    for addr in ${list//,/ }; do
      listen+=",$addr"
      net=${addr%.*}.0/24
      [[ " ${nets[*]} " == *" $net "* ]] || nets+=("$net")
    done
  done
  for net in "${nets[@]}"; do
    echo "host all all $net trust"
  done >>"$PG_DIR/data/pg_hba.conf"
  echo "include 'throwaway.conf'" >>"$PG_DIR/data/postgresql.conf"
  for attempt in 1 2 3; do  # another program may take the port first
    PG_PORT=$(_pg_free_port)
    cat >"$PG_DIR/data/throwaway.conf" <<EOF
listen_addresses = '$listen'
port = $PG_PORT
unix_socket_directories = '$PG_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    [[ -z ${_pg_as_owner[*]} ]] || chown postgres: "$PG_DIR/data/throwaway.conf"
    if _pg_run "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -s start \
      >"$PG_DIR/pg_ctl.log" 2>&1; then
      _pg_running=1
      return 0
    fi
  done
  _pg_say "the server did not start (port $PG_PORT, attempt $attempt): $(tail -n 5 "$PG_DIR/server.log" 2>/dev/null)"
  return 1
}

pg_createdb() {
  pg_psql postgres -c "CREATE DATABASE \"${1:?pg_createdb: NAME missing}\""
}

pg_url() {
  echo "postgresql://lrtune@${1:?pg_url: HOST missing}:$PG_PORT/${2:?pg_url: NAME missing}"
}

pg_psql() {
  local db=${1:?pg_psql: NAME missing}
  shift
  "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U lrtune -d "$db" "$@"
}

pg_restart() {
  ((_pg_running)) || { _pg_say "pg_restart: no server is running"; return 1; }
  _pg_run "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -s -m fast restart \
    >>"$PG_DIR/pg_ctl.log" 2>&1 || { _pg_say "pg_ctl restart failed: $(tail -n 5 "$PG_DIR/server.log")"; return 1; }
}

pg_stop() {
  ((_pg_running)) || return 0
  _pg_running=0
  _pg_run "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -s stop >/dev/null 2>&1 || true
}
