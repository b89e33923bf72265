#!/usr/bin/env bash
# Runs Strav's whole test suite against a real PostgreSQL (DATABASE_URL, else
# the local server; each test makes and drops a database of its own).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-postgres.sh
cargo test --workspace "$@"
