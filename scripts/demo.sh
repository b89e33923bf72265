#!/usr/bin/env bash
# Strav's main job on the example project: onboard tenants, route queries to
# their schemas, and inspect them with the `strav` CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-postgres.sh
cargo build -q -p strav-cli -p example-tenant-routing
root=$PWD
cd examples/tenant-routing
if [ -z "${DATABASE_URL:-}" ]; then
  db=${DB_DATABASE:-strav_example}
  exists=$(psql -h "${DB_HOST:-127.0.0.1}" -U "${DB_USER:-postgres}" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$db'")
  [ "$exists" = 1 ] || psql -q -h "${DB_HOST:-127.0.0.1}" -U "${DB_USER:-postgres}" -d postgres \
    -c "CREATE DATABASE \"$db\""
fi
"$root/target/debug/example-tenant-routing"
echo
echo '$ strav schema:list'
"$root/target/debug/strav" schema:list
echo
echo '$ strav schema:stats acme'
"$root/target/debug/strav" schema:stats acme
