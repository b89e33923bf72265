#!/usr/bin/env bash
# Runs Strav's whole test suite against a real PostgreSQL (DATABASE_URL, else
# the local server; each test makes and drops a database of its own), and
# through real PgBouncers in front of it (scripts/ensure-pgbouncer.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-postgres.sh
scripts/ensure-pgbouncer.sh
cargo test --workspace "$@"
