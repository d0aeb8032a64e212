#!/usr/bin/env bash
# Foundation benchmarks (issue 2), on this machine with the load generator (wrk) beside the server:
#   - start-up: serving again after a restart on a store of ENTITIES sensors (10 attributes each)
#   - resident memory of the server holding them
#   - GET entity by id, and durable single-attribute PATCH, 64 keep-alive connections
#   - restart after kill -9 in the middle of the PATCH load
# Usage: bench/run.sh            (ENTITIES=1000000 DURATION=15s by default)
#        ONLY=upsert bench/run.sh  (seed, start, warm the query indexes, then only the batch upsert row)
#        BIN=... SEED=... bench/run.sh  (another build: its server and the seeder of the same build)
# Prints one markdown table row per figure; docs/benchmarks.md keeps the results.
set -euo pipefail
cd "$(dirname "$0")/.."

ENTITIES=${ENTITIES:-1000000}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-64}
BIN=${BIN:-build/release/citytwin}
SEED=${SEED:-build/release/bench/citytwin_seed}  # writes the stored form of its own build: pair it with BIN
DIR=$(mktemp -d /tmp/citytwin-bench.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
export BENCH_ENTITIES=$ENTITIES BENCH_DIR=bench
pid=""
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$DIR"' EXIT

start_server() {  # sets pid, and elapsed: seconds until /health answers
  local t0; t0=$(date +%s.%N)
  "$BIN" serve --listen 127.0.0.1:$PORT --data-dir "$DIR/data" --log-level warn >>"$DIR/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 3000); do curl -sf "$URL/health" >/dev/null && break; sleep 0.02; done
  curl -sf "$URL/health" >/dev/null || { echo "the server did not start:"; tail "$DIR/server.log"; exit 1; }
  elapsed=$(echo "$(date +%s.%N) - $t0" | bc)
}
# Runs a wrk command and prints its RESULT line with the server's CPU per request appended: on a shared or
# throttled machine the CPU per request moves far less than the request rate does.
with_cpu_per_request() {
  local before after result requests
  before=$(awk '{print $14 + $15}' /proc/$pid/stat)
  result=$("$@" | grep RESULT)
  after=$(awk '{print $14 + $15}' /proc/$pid/stat)
  requests=$(echo "$result" | sed -E 's/.*requests=([0-9]+).*/\1/')
  echo "$result cpu_us_per_request=$(echo "scale=1; ($after - $before) * 1000000 / $(getconf CLK_TCK) / $requests" | bc)"
}
row() { printf '| %s | %s | %s |\n' "$1" "$2" "$3"; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); $(date -u +%F)"
"$SEED" --data-dir "$DIR/data" --entities "$ENTITIES"

row "what" "result" "target"
row "---" "---" "---"
start_server
startup_cpu=$(echo "scale=2; $(awk '{print $14 + $15}' /proc/$pid/stat) / $(getconf CLK_TCK)" | bc)
row "start-up on $ENTITIES entities (to /health 200)" "$(printf '%.2f s' "$elapsed") (server CPU $startup_cpu s)" "≤ 10 s"
rss_kb=$(awk '/VmRSS/{print $2}' /proc/$pid/status)
row "resident memory with $ENTITIES entities × 10 attributes" "$(echo "scale=2; $rss_kb/1048576" | bc) GiB" "≤ 1.5 GiB"

if [ "${ONLY:-}" != upsert ]; then
get=$(with_cpu_per_request wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/get.lua "$URL")
row "GET by id, $CONNECTIONS connections" "$get" "≥ 100,000 req/s, p99 ≤ 2 ms"
patch=$(with_cpu_per_request wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/patch.lua "$URL")
row "PATCH one attribute, durable, $CONNECTIONS connections" "$patch" "≥ 50,000 req/s, p99 ≤ 5 ms"

# Queries (issue 3). The first query of each kind builds its index: warm it before measuring.
curl -s "$URL/ngsi-ld/v1/entities?type=Sensor&q=pm25%3E199&limit=1" >/dev/null
curl -s "$URL/ngsi-ld/v1/entities?type=Sensor&georel=near%3BmaxDistance%3D%3D1000&geometry=Point&coordinates=%5B116.4,39.9%5D&limit=1" >/dev/null
q=$(wrk -t2 -c16 -d"$DURATION" --latency -s bench/query_q.lua "$URL" | grep RESULT)
row "query type + selective q (pm25>199.x, ~0.5% of $ENTITIES), 16 connections" "$q" "p99 ≤ 20 ms"
near=$(NEAR_LIMIT=1000 wrk -t2 -c16 -d"$DURATION" --latency -s bench/query_near.lua "$URL" | grep RESULT)
row "query near;maxDistance==1000 (≈700 of $ENTITIES, all rendered: limit=1000), 16 connections" "$near" "p99 ≤ 10 ms"
near=$(NEAR_LIMIT=100 wrk -t2 -c16 -d"$DURATION" --latency -s bench/query_near.lua "$URL" | grep RESULT)
row "query near;maxDistance==1000 (first page: limit=100), 16 connections" "$near" "p99 ≤ 10 ms"
fi
# The upsert keeps the value and spatial indexes the queries built up to date, as in a city that queries.
curl -s "$URL/ngsi-ld/v1/entities?type=Sensor&q=pm25%3E199&limit=1" >/dev/null
curl -s "$URL/ngsi-ld/v1/entities?type=Sensor&georel=near%3BmaxDistance%3D%3D1000&geometry=Point&coordinates=%5B116.4,39.9%5D&limit=1" >/dev/null
cpu_before=$(awk '{print $14 + $15}' /proc/$pid/stat)
upsert=$(wrk -t2 -c16 -d"$DURATION" --latency -s bench/upsert.lua "$URL" | grep RESULT)
rate=$(echo "$upsert" | sed -E 's/.*requests_per_s=([0-9]+).*/\1/')
cpu_ticks=$(( $(awk '{print $14 + $15}' /proc/$pid/stat) - cpu_before ))
requests=$(echo "$upsert" | sed -E 's/.*requests=([0-9]+).*/\1/')
cpu_per_value=$(echo "scale=2; $cpu_ticks * 1000 / $(getconf CLK_TCK) / $requests" | bc)
row "batch upsert 100 entities × 10 attributes, durable, 16 connections" "$upsert; = $((rate * 1000)) attribute values/s; server CPU $cpu_per_value µs per value" "≥ 1,000,000 attribute values/s"
[ "${ONLY:-}" = upsert ] && { kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=""; exit 0; }

# kill -9 in the middle of sustained PATCH load, then measure the restart.
wrk -t2 -c"$CONNECTIONS" -d10s -s bench/patch.lua "$URL" >/dev/null 2>&1 &
wrk_pid=$!
sleep 3
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
wait "$wrk_pid" 2>/dev/null || true
start_server
row "restart after kill -9 under PATCH load, $ENTITIES entities" "$(printf '%.2f s' "$elapsed")" "≤ 10 s"
count=$(curl -s "$URL/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["entities"])')
row "entities after the restart (seeded + upserted)" "$count" "≥ $ENTITIES"
kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=""
