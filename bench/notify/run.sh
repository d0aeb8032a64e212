#!/usr/bin/env bash
# Subscriptions and notifications benchmark (docs/benchmarks.md):
#   - SUBSCRIPTIONS subscriptions (one per entity, by id) on a store of ENTITIES sensors;
#   - RATE durable single-attribute updates per second (PATCH /attrs, CONNECTIONS keep-alive
#     connections) for DURATION seconds, a fraction MATCH of them on a subscribed entity;
#   - measured at the receiver (bench/notify/notify_bench.cpp, in-process HTTP receiver on loopback):
#     update -> notification latency p50/p99 and notifications lost; and the update throughput and
#     latency, against the same run on a server with no subscription.
# The machine is often shared: ROUNDS=n runs both configurations n times in alternating order and
# reports, for each, the round with the highest update rate (all result lines are printed).
# Usage: bench/notify/run.sh [path/to/citytwin]      (environment variables override the defaults)
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${1:-build/release/citytwin}
ENTITIES=${ENTITIES:-100000}
SUBSCRIPTIONS=${SUBSCRIPTIONS:-10000}
RATE=${RATE:-20000}
MATCH=${MATCH:-0.1}
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-64}
ROUNDS=${ROUNDS:-1}
SERVER_ARGS=${SERVER_ARGS:-}
DRIVER=build/release/bench/notify_bench
DIR=$(mktemp -d /tmp/citytwin-notify-bench.XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$DIR"' EXIT

cmake --build --preset release --target notify_bench >/dev/null  # the driver is a target of the release preset

run() {  # $1: subscriptions; prints the driver's result line
  local port; port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  rm -rf "$DIR/data"
  # shellcheck disable=SC2086
  "$BIN" serve --listen 127.0.0.1:$port --data-dir "$DIR/data" --log-level warn $SERVER_ARGS >>"$DIR/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 500); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.02; done
  "$DRIVER" --server 127.0.0.1:$port --entities "$ENTITIES" --subscriptions "$1" --rate "$RATE" --match "$MATCH" \
    --duration "$DURATION" --connections "$CONNECTIONS"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}

field() { sed -E "s/.* $1=([^ ]+).*/\1/" <<<" $2"; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); $(date -u +%F)"
echo "config: $ENTITIES entities, $SUBSCRIPTIONS subscriptions, $RATE updates/s offered, $MATCH matching, ${DURATION}s, $CONNECTIONS connections ${SERVER_ARGS}"
best() {  # $1: the best line so far, $2: a new one; prints the one with the higher update rate
  if [ -z "$1" ] || [ "$(field update_rate "$2" | tr -d '/s')" -gt "$(field update_rate "$1" | tr -d '/s')" ]; then
    echo "$2"
  else
    echo "$1"
  fi
}
with=""; without=""
for round in $(seq "$ROUNDS"); do
  if [ $((round % 2)) -eq 1 ]; then order="with without"; else order="without with"; fi
  for what in $order; do
    if [ "$what" = with ]; then
      line=$(run "$SUBSCRIPTIONS"); echo "round $round, with subscriptions:    $line"; with=$(best "$with" "$line")
    else
      line=$(run 0); echo "round $round, without subscriptions: $line"; without=$(best "$without" "$line")
    fi
  done
done

printf '| %s | %s |\n' "what" "result"
printf '| %s | %s |\n' "---" "---"
printf '| %s | %s |\n' "update -> notification at the receiver, p50 / p99 / max" \
  "$(field notify_p50_ms "$with") / $(field notify_p99_ms "$with") / $(field notify_max_ms "$with") ms"
printf '| %s | %s |\n' "notifications expected / received / lost" \
  "$(field expected_notifications "$with") / $(field received "$with") / $(field lost "$with")"
printf '| %s | %s |\n' "updates/s with $SUBSCRIPTIONS subscriptions (p50 / p99)" \
  "$(field update_rate "$with") ($(field update_p50_ms "$with") / $(field update_p99_ms "$with") ms)"
printf '| %s | %s |\n' "updates/s with none (p50 / p99)" \
  "$(field update_rate "$without") ($(field update_p50_ms "$without") / $(field update_p99_ms "$without") ms)"
