#!/usr/bin/env bash
# History benchmarks (issue 5):
#   1. the history store end to end (history_store_bench): one year of 1-minute data of one
#      attribute recorded, compacted, stored bytes per point, hourly avg/min/max over the year;
#      then the same aggregation over HTTP (GET /temporal/entities/{id}?options=aggregatedValues);
#   2. ingest with history on and off: durable single-attribute PATCH and batch upsert (wrk), on
#      a store seeded with ENTITIES sensors, alternating the two servers ROUNDS times.
# Usage: bench/history/run.sh   (ENTITIES=100000 DURATION=10s ROUNDS=2 PARTS="store ingest" by default)
set -euo pipefail
cd "$(dirname "$0")/../.."

ENTITIES=${ENTITIES:-100000}
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-2}
PARTS=${PARTS:-store ingest}
BIN=build/release/citytwin
DIR=$(mktemp -d /tmp/citytwin-history-bench.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
export BENCH_ENTITIES=$ENTITIES BENCH_DIR=bench
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$DIR"' EXIT

start_server() {  # $1: data dir, then extra options
  local data=$1; shift
  "$BIN" serve --listen 127.0.0.1:$PORT --data-dir "$data" --log-level warn "$@" >>"$DIR/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 3000); do curl -sf "$URL/health" >/dev/null && break; sleep 0.02; done
  curl -sf "$URL/health" >/dev/null || { echo "the server did not start:"; tail "$DIR/server.log"; exit 1; }
}
stop_server() { kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); $(date -u '+%F %H:%M') UTC"
if [[ $PARTS == *store* ]]; then
for series in temperature pm25; do
  build/release/bench/history_store_bench --series "$series" --data-dir "$DIR/store-$series" --keep
done
start_server "$DIR/store-temperature"
query="$URL/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:Bench:1?attrs=temperature&options=aggregatedValues&aggrMethods=avg,min,max&aggrPeriodDuration=PT1H&timerel=between&timeAt=2023-01-01T00:00:00Z&endTimeAt=2024-01-01T00:00:00Z"
for _ in 1 2 3; do curl -s -o /dev/null "$query"; done
times=$(for _ in $(seq 10); do curl -s -o /dev/null -w '%{time_total}\n' "$query"; done | sort -n)
bytes=$(curl -s "$query" | wc -c)
echo "HTTP hourly avg/min/max over the year ($bytes bytes of JSON): min $(echo "$times" | head -1) s, median $(echo "$times" | sed -n 5p) s"
stop_server
fi

[[ $PARTS == *ingest* ]] || exit 0
build/release/bench/citytwin_seed --data-dir "$DIR/seed" --entities "$ENTITIES" >/dev/null
for round in $(seq "$ROUNDS"); do
  for mode in on off; do
    rm -rf "$DIR/run" && cp -r "$DIR/seed" "$DIR/run"
    if [ $mode = on ]; then start_server "$DIR/run"; else start_server "$DIR/run" --no-history; fi
    patch=$(wrk -t2 -c64 -d"$DURATION" --latency -s bench/patch.lua "$URL" | grep RESULT)
    upsert=$(wrk -t2 -c16 -d"$DURATION" --latency -s bench/upsert.lua "$URL" | grep RESULT)
    echo "round $round, history $mode: PATCH $patch"
    echo "round $round, history $mode: upsert $upsert"
    stop_server
  done
done
