#!/usr/bin/env bash
# Strav's main job: the multi-tenant web app of examples/saas. Builds and
# starts it, onboards three tenants over HTTP, sends each real requests,
# shows that each sees only its own data and that an unknown tenant gets
# 404, shows what the background job did, prints the admin listing and
# stops the server. Leaves nothing running.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-postgres.sh
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
cargo build -q -p example-saas
root=$PWD
bin=$root/target/debug/saas
[ -n "${CARGO_TARGET_DIR:-}" ] && bin=$CARGO_TARGET_DIR/debug/saas

# A database of the demo's own, fresh each run.
if [ -z "${DATABASE_URL:-}" ]; then
  db=${DB_DATABASE:-strav_saas}
  psql -q -h "${DB_HOST:-127.0.0.1}" -U "${DB_USER:-postgres}" -d postgres \
    -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" -c "CREATE DATABASE \"$db\"" 2>&1 | grep -v NOTICE || true
fi

out=$(mktemp)
cd examples/saas
SAAS_ADDR=127.0.0.1:0 SAAS_BASE_DOMAIN=saas.localhost RUST_LOG=${RUST_LOG:-warn} "$bin" >"$out" 2>&1 &
server=$!
stop() {
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -f "$out"
}
trap stop EXIT
for _ in $(seq 1 100); do
  addr=$(sed -n 's|^listening on http://||p' "$out")
  [ -n "$addr" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$out" >&2; exit 1; }
  sleep 0.1
done
[ -n "$addr" ] || { echo "the server did not start" >&2; cat "$out" >&2; exit 1; }
echo "server listening on $addr (tenants are subdomains of saas.localhost)"

show() { # method path host [json]
  echo
  echo "\$ curl -X $1 -H 'Host: $3' http://$addr$2${4:+ -d '$4'}"
  curl -s -S -X "$1" "http://$addr$2" -H "Host: $3" -H 'Content-Type: application/json' \
    ${4:+-d "$4"} -w '\n  -> HTTP %{http_code}\n'
}

echo; echo '== onboarding: create + migrate each tenant schema =='
show POST /admin/tenants admin.saas.localhost '{"name":"acme"}'
show POST /admin/tenants admin.saas.localhost '{"name":"globex","domain":"shop.globex.test"}'
show POST /admin/tenants admin.saas.localhost '{"name":"initech"}'

echo; echo '== each tenant places orders, on its own subdomain (globex also on its own domain) =='
show POST /orders acme.saas.localhost '{"customer":"Wile E. Coyote","total_cents":129900}'
show POST /orders acme.saas.localhost '{"customer":"Road Runner","total_cents":450}'
show POST /orders shop.globex.test '{"customer":"Hank Scorpio","total_cents":99900}'
show POST /orders initech.saas.localhost '{"customer":"Peter Gibbons","total_cents":1500}'

echo; echo '== each sees only its own orders =='
show GET /orders acme.saas.localhost
show GET /orders globex.saas.localhost
show GET /orders initech.saas.localhost
show GET /orders/3 acme.saas.localhost

echo; echo '== an unknown tenant, a protected name, no tenant at all =='
show GET /orders hooli.saas.localhost
show GET /orders public.saas.localhost
show GET /orders saas.localhost

sleep 1
echo; echo '== the job each order queued ran in its tenant (status confirmed, ran_in) =='
show GET /orders/1/events acme.saas.localhost
show GET /orders/1/events globex.saas.localhost
show GET /orders/1 initech.saas.localhost

echo; echo '== admin listing (runs outside every tenant, whatever the host) =='
show GET /admin/tenants acme.saas.localhost
show DELETE /admin/tenants/initech admin.saas.localhost
show GET /orders initech.saas.localhost

echo; echo '== stopping the server =='
kill -TERM "$server"
wait "$server" || true
trap - EXIT
rm -f "$out"
echo "stopped; nothing left running"
