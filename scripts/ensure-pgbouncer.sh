#!/usr/bin/env bash
# Makes sure three PgBouncers answer on loopback, in front of the PostgreSQL
# on 127.0.0.1:5432, for the tests and benchmarks that go through a pooler:
#   127.0.0.1:6433  transaction mode, one server connection shared by every client
#   127.0.0.1:6434  transaction mode, four server connections
#   127.0.0.1:6435  session mode, eight server connections
# Installs Debian's pgbouncer package if the machine has none. Idempotent:
# does nothing for an instance that already answers. Its files live in
# /var/tmp/strav-pgbouncer; `scripts/ensure-pgbouncer.sh stop` stops them.
set -euo pipefail

root=/var/tmp/strav-pgbouncer
upstream_host=${STRAV_PGBOUNCER_UPSTREAM_HOST:-127.0.0.1}
upstream_port=${STRAV_PGBOUNCER_UPSTREAM_PORT:-5432}

if [ "${1:-}" = stop ]; then
  for pid in "$root"/*/pgbouncer.pid; do
    [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true
  done
  exit 0
fi

if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then
  echo "ensure-pgbouncer: installing PgBouncer from Debian's packages" >&2
  apt-get update -qq
  apt-get install -y -qq pgbouncer >/dev/null
fi
bin=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)

# PgBouncer refuses to run as root; run it as the PostgreSQL service user.
run_as=()
if [ "$(id -u)" = 0 ]; then
  user=postgres
  id "$user" >/dev/null 2>&1 || useradd --system --no-create-home "$user"
  run_as=(runuser -u "$user" --)
fi

start() { # name port pool_size pool_mode
  local dir=$root/$1 port=$2 size=$3 mode=$4 reset=""
  # A session pooler must wipe a server session before the next client gets
  # it (PgBouncer's default); in transaction mode it is not used.
  if [ "$mode" = session ]; then reset="DISCARD ALL"; fi
  local ini
  ini=$(cat <<INI
[databases]
* = host=$upstream_host port=$upstream_port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = $mode
default_pool_size = $size
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 2000
max_db_connections = $size
server_reset_query = $reset
server_check_delay = 0
ignore_startup_parameters = extra_float_digits,options
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
)
  # Running with this very configuration: nothing to do.
  if pg_isready -q -h 127.0.0.1 -p "$port" 2>/dev/null \
    && [ "$(cat "$dir/pgbouncer.ini" 2>/dev/null)" = "$ini" ]; then
    return 0
  fi
  if [ -f "$dir/pgbouncer.pid" ]; then
    kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do
      pg_isready -q -h 127.0.0.1 -p "$port" 2>/dev/null || break
      sleep 0.1
    done
  fi
  mkdir -p "$dir"
  printf '%s\n' "$ini" >"$dir/pgbouncer.ini"
  printf '"postgres" ""\n' >"$dir/userlist.txt"
  [ ${#run_as[@]} -eq 0 ] || chown -R postgres "$dir"
  rm -f "$dir/pgbouncer.pid"
  "${run_as[@]}" "$bin" -d -q "$dir/pgbouncer.ini"
  for _ in $(seq 1 50); do
    pg_isready -q -h 127.0.0.1 -p "$port" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "ensure-pgbouncer: PgBouncer $1 did not come up on 127.0.0.1:$port; see $dir/pgbouncer.log" >&2
  exit 1
}

start one 6433 1 transaction
start few 6434 4 transaction
start session 6435 8 session
