#!/usr/bin/env bash
# Client instructions per lookup, Strav against bare sqlx, counted by
# callgrind (near-deterministic for one binary and input, unlike wall-clock time).
# Each mode runs twice with different lookup counts; the difference cancels
# connecting and the fixture. Usage: scripts/bench-calls.sh [modes...]
# CALLS_WORKERS / CALLS_CONNECTIONS: run the Strav modes contended (16 / 8).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-postgres.sh
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
cargo build -q --release -p strav-bench
bin=target/release/strav-bench
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(conn_hot strav_hot strav_request model_hot)
small=${CALLS_SMALL:-1000}
large=${CALLS_LARGE:-6000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

total() { # fewest instructions callgrind counted over a few runs
  # The client's count is not quite deterministic against a live server: a
  # reply that has not arrived yet costs the client a trip through the
  # reactor. The fewest over a few runs is the count without those trips.
  local best="" n
  for _ in 1 2 3; do
    n=$(one_run "$@")
    if [ -z "$best" ] || [ "$n" -lt "$best" ]; then best=$n; fi
  done
  echo "$best"
}

one_run() { # instructions counted by callgrind in one run
  valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$bin" calls --mode "$1" --lookups "$2" \
    --workers "${CALLS_WORKERS:-1}" --connections "${CALLS_CONNECTIONS:-1}" \
    >/dev/null 2>"$out/err" || { cat "$out/err" >&2; exit 1; }
  awk '/^summary:/ {print $2}' "$out/cg"
}

declare -A per
for mode in "${modes[@]}"; do
  a=$(total "$mode" "$small")
  b=$(total "$mode" "$large")
  per[$mode]=$(( (b - a) / (large - small) ))
  echo "$mode: ${per[$mode]} instructions per lookup"
done
if [ -n "${per[conn_hot]:-}" ]; then
  for mode in "${modes[@]}"; do
    [ "$mode" = conn_hot ] && continue
    awk -v m="$mode" -v x="${per[$mode]}" -v c="${per[conn_hot]}" \
      'BEGIN { printf "%s / conn_hot = %.3f\n", m, x / c }'
  done
fi
