# Sourced by bench/run and bench/profile: the read benchmark's database and server.
# Needs DB, PORT, OUT and a `pids` array (with cleanup) set by the caller; REUSE=1 keeps an
# already loaded $DB (its organization and orders) instead of reloading it.
# Sets URL, SG_PID, KEY (a VIEWER API key), ORG, ACC, ROWS and LOAD.
export SHIPGATE_SECRET_KEY="bench-only-secret-key-not-for-production-0000"
# TLS off on loopback for every client alike (Shipgate, PostGraphile, pgbench): Debian's
# PostgreSQL offers TLS, which libpq and sqlx take by default and node-postgres does not.
URL="postgres://postgres@127.0.0.1:5432/$DB?sslmode=disable"
reuse=false
if [ "${REUSE:-0}" = 1 ] && [ "$(psql -h 127.0.0.1 -U postgres -d "$DB" -Atc "SELECT count(*) > 0 FROM orders" 2>/dev/null)" = t ]; then
  reuse=true
  ORDERS=$(psql -h 127.0.0.1 -U postgres -d "$DB" -Atc "SELECT count(*) FROM orders")
else
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
fi
SHIPGATE_DATABASE_URL="$URL" target/release/shipgate migrate >/dev/null
SHIPGATE_SANDBOX=false SHIPGATE_DATABASE_URL="$URL" SHIPGATE_BIND="127.0.0.1:$PORT" \
  target/release/shipgate serve > "$OUT/shipgate.log" 2>&1 &
SG_PID=$!
pids+=("$SG_PID")
until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do sleep 0.1; done
gql() {
  curl -sf "http://127.0.0.1:$PORT/graphql" -H 'content-type: application/json' ${2:+-H "authorization: Bearer $2"} -d "$1"
}
CREDENTIALS='email:\"bench@example.com\", password:\"benchmark password 1\"'
if $reuse; then
  TOKEN=$(gql "{\"query\":\"mutation { login(input:{$CREDENTIALS}) { accessToken } }\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["login"]["accessToken"])')
else
  TOKEN=$(gql "{\"query\":\"mutation { signUp(input:{organizationName:\\\"Bench\\\", $CREDENTIALS}) { accessToken } }\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["signUp"]["accessToken"])')
fi
KEY=$(gql '{"query":"mutation { createApiKey(input:{name:\"bench\", role: VIEWER}) { secret } }"}' "$TOKEN" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["createApiKey"]["secret"])')
ORG=$(psql -h 127.0.0.1 -U postgres -d "$DB" -Atc "SELECT id FROM organizations LIMIT 1")
ACC=$(psql -h 127.0.0.1 -U postgres -d "$DB" -Atc "SELECT md5('account:0')::uuid")

LOAD=reused
if ! $reuse; then
  echo "== loading $ORDERS orders"
  t0=$(date +%s.%N)
  psql -h 127.0.0.1 -U postgres -d "$DB" -q -v org="$ORG" -v orders="$ORDERS" -f bench/generate.sql
  # PostGraphile 5 exposes a backward relation only over a plain index on the foreign key
  # (Shipgate reads a waybill through the partial "active waybill" index).
  psql -h 127.0.0.1 -U postgres -d "$DB" -qc "CREATE INDEX bench_waybills_order_id ON waybills (order_id)" -c "ANALYZE waybills"
  LOAD=$(python3 -c "import time; print(f'{time.time() - $t0:.1f}')")
fi
ROWS=$(psql -h 127.0.0.1 -U postgres -d "$DB" -Atc "SELECT (SELECT count(*) FROM orders) || ' orders, ' || (SELECT count(*) FROM order_items) || ' lines, ' || (SELECT count(*) FROM skus) || ' SKUs, ' || (SELECT count(*) FROM waybills) || ' waybills'")
echo "data: $ROWS (load: ${LOAD}s)"
