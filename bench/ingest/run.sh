#!/usr/bin/env bash
# Ingest benchmarks (issue 6), everything on this machine:
#   1. mosquitto alone: bench/mqtt_load publishes MESSAGES 5-measure messages (QoS 1) and a second
#      mqtt_load receives them: what the broker routes to one consumer;
#   2. CityTwin over MQTT: the same publisher into `citytwin serve --mqtt`, UltraLight then JSON, to
#      DEVICES auto-provisioned devices; the rate is MESSAGES over the time from the first publish
#      until /metrics counts them all written into the twin (durably queued, group-committed);
#   3. CityTwin over HTTP: wrk POSTs UltraLight to /iot/d (each answered once durable).
# CityTwin writes MQTT messages in batches (see ingest/mqtt_adapter.hpp), so its rate includes the
# store's group commits but not their fsync latency: nobody waits for an MQTT acknowledgement.
# Usage: bash bench/ingest/run.sh  (MESSAGES=200000 DEVICES=1000 DURATION=10s CONNECTIONS=64)
set -euo pipefail
cd "$(dirname "$0")/../.."

MESSAGES=${MESSAGES:-200000}
DEVICES=${DEVICES:-1000}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
BIN=build/release/citytwin
LOAD=build/release/bench/mqtt_load
DIR=$(mktemp -d /tmp/citytwin-ingest-bench.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MQTT_PORT=$(free_port)
HTTP_PORT=$(free_port)
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$DIR"' EXIT

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); $(date -u '+%F %H:%M UTC'); load $(cut -d' ' -f1-3 /proc/loadavg)"
# Unbounded per-client queues: by default mosquitto drops what a consumer has not taken beyond 1000
# queued messages, and a burst of MESSAGES would be cut short for whichever consumer is slower.
printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n' "$MQTT_PORT" >"$DIR/mosquitto.conf"
mosquitto -c "$DIR/mosquitto.conf" >"$DIR/mosquitto.log" 2>&1 &
pids+=($!)
sleep 0.5

rate() { sed -n 's/.*: \([0-9]*\) messages\/s/\1/p'; }

# 1. mosquitto alone
"$LOAD" subscribe --port "$MQTT_PORT" --messages "$MESSAGES" --apikey alone >"$DIR/sub.txt" &
sub=$!
for _ in $(seq 100); do grep -q subscribed "$DIR/sub.txt" 2>/dev/null && break; sleep 0.05; done
"$LOAD" publish --port "$MQTT_PORT" --messages "$MESSAGES" --devices "$DEVICES" --apikey alone --format ul >/dev/null
wait $sub
alone=$(rate <"$DIR/sub.txt")
echo "| mosquitto alone, $MESSAGES UltraLight messages to one subscriber | $alone msg/s | |"

# 2. CityTwin over MQTT
"$BIN" serve --listen 127.0.0.1:$HTTP_PORT --data-dir "$DIR/data" --mqtt mqtt://127.0.0.1:$MQTT_PORT --log-level warn \
  >>"$DIR/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do curl -sf http://127.0.0.1:$HTTP_PORT/health >/dev/null && break; sleep 0.05; done
curl -sf -X POST http://127.0.0.1:$HTTP_PORT/iot/services -H 'Content-Type: application/json' -d '{"services":[
  {"apikey":"bench","entity_type":"AirQualityObserved","autoprovision":true,"attributes":[
   {"object_id":"t","name":"temperature","type":"Number"},{"object_id":"h","name":"relativeHumidity","type":"Number"},
   {"object_id":"pm","name":"pm25","type":"Integer"},{"object_id":"no2","name":"no2","type":"Integer"},
   {"object_id":"ws","name":"windSpeed","type":"Number"}]}]}'
accepted() { curl -s http://127.0.0.1:$HTTP_PORT/metrics | sed -n 's/^citytwin_ingest_messages_total{transport="mqtt"} //p'; }
# Provision the devices first (auto-provisioning is measured apart from ingest).
"$LOAD" publish --port "$MQTT_PORT" --messages "$DEVICES" --devices "$DEVICES" --format ul >/dev/null
settle() {  # until the count stops moving
  local a b; a=$(accepted); while sleep 0.2; b=$(accepted); [ "$a" != "$b" ]; do a=$b; done
}
for _ in $(seq 400); do [ "$(accepted)" -ge "$DEVICES" ] && break; sleep 0.05; done
for format in ul json; do
  settle
  before=$(accepted)
  target=$((before + MESSAGES))
  t0=$(date +%s.%N)
  "$LOAD" publish --port "$MQTT_PORT" --messages "$MESSAGES" --devices "$DEVICES" --format $format >/dev/null
  deadline=$(( $(date +%s) + 120 ))
  while [ "$(accepted)" -lt "$target" ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.02; done
  t1=$(date +%s.%N)
  got=$(( $(accepted) - before ))
  r=$(echo "$got / ($t1 - $t0)" | bc)
  echo "| CityTwin MQTT ingest, $MESSAGES $format messages × 5 measures into the twin ($got written) | $r msg/s | ≥ 90% of mosquitto alone: $(echo "scale=0; 100 * $r / $alone" | bc)% |"
done
dropped=$(curl -s http://127.0.0.1:$HTTP_PORT/metrics | awk '/^citytwin_ingest_dropped_total/{s+=$2} END{print s+0}')
echo "| dropped during the MQTT runs | $dropped | 0 |"

# 3. CityTwin over HTTP
cat >"$DIR/post.lua" <<LUA
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", "/iot/d?k=bench&i=d" .. (i % $DEVICES), {["Content-Type"] = "text/plain"},
                    "t|21.5|h|40|pm|" .. (i % 500) .. "|no2|33|ws|2.5")
end
LUA
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -s "$DIR/post.lua" http://127.0.0.1:$HTTP_PORT >"$DIR/wrk.txt"
http=$(sed -n 's/^Requests\/sec: *\([0-9.]*\)/\1/p' "$DIR/wrk.txt")
non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\)/\1/p' "$DIR/wrk.txt")
latency=$(awk '/Latency/{print $2; exit}' "$DIR/wrk.txt")
echo "| CityTwin HTTP ingest, POST /iot/d 5 measures, $CONNECTIONS connections, answered when durable | ${http%.*} msg/s (mean latency $latency, non-2xx ${non2xx:-0}) | ≥ 50,000 msg/s |"
