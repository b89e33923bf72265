#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 (or at
# DATABASE_URL): installs Debian's PostgreSQL if the machine has none, starts
# the cluster if it is down. Idempotent; does nothing when the server answers.
set -euo pipefail

answers() {
  if [ -n "${DATABASE_URL:-}" ]; then
    pg_isready -q -d "$DATABASE_URL"
  else
    pg_isready -q -h 127.0.0.1 -p 5432
  fi
}

if ! command -v pg_isready >/dev/null 2>&1; then
  echo "ensure-postgres: installing PostgreSQL from Debian's packages" >&2
  apt-get update -qq
  apt-get install -y -qq postgresql postgresql-client >/dev/null
fi

if answers; then
  exit 0
fi

if [ -n "${DATABASE_URL:-}" ]; then
  echo "ensure-postgres: DATABASE_URL is set but its server does not answer" >&2
  exit 1
fi

version=$(ls /etc/postgresql | sort -V | tail -n 1)
echo "ensure-postgres: starting PostgreSQL $version" >&2
pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
for _ in $(seq 1 30); do
  answers && exit 0
  sleep 1
done
echo "ensure-postgres: PostgreSQL did not come up on 127.0.0.1:5432" >&2
exit 1
