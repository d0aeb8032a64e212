#!/usr/bin/env bash
# Ingest benchmarks (issue 6), everything on this machine, one broker for the whole run:
#   MQTT, ROUNDS rounds, each: mosquitto alone (UltraLight), CityTwin (UltraLight), mosquitto alone
#   (JSON), CityTwin (JSON). Each measurement publishes MESSAGES 5-measure messages (QoS 1) with
#   bench/mqtt_load to DEVICES devices and is timed the same way: from the publisher's first publish
#   to the last message consumed, on the steady clock every process shares:
#     - mosquitto alone: until a second mqtt_load subscribed to the topics has received them all
#       (topics without the leading "/", which CityTwin, subscribed to /+/+/attrs, does not see);
#     - CityTwin: until /metrics counts them all written into the twin (applied and queued to the
#       store, which group-commits them; nobody waits for an MQTT acknowledgement).
#   The figure is the median over the rounds of CityTwin / the mosquitto run just before it. Each
#   CityTwin run also reports its CPU time per message (utime + stime of the server process).
#   HTTP: wrk POSTs single UltraLight readings to /iot/d, each answered once durable, with
#   CONNECTIONS connections (a space-separated list: "64 256" by default).
# The server runs with its defaults (history on) plus SERVE_ARGS (e.g. --no-history, or --applications all,
# to compare). CPU_UNTIL_QUIET=1 counts the CPU per message until the server is idle again.
# Usage: bash bench/ingest/run.sh  (ROUNDS=3 MESSAGES=200000 DEVICES=1000 DURATION=10s CONNECTIONS="64 256";
#        ROUNDS=0 for HTTP only, CONNECTIONS=" " for MQTT only; BIN=path/to/citytwin to compare builds)
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${ROUNDS:-3}
MESSAGES=${MESSAGES:-200000}
DEVICES=${DEVICES:-1000}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64 256}
BIN=${BIN:-build/release/citytwin}
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

"$BIN" serve --listen 127.0.0.1:$HTTP_PORT --data-dir "$DIR/data" --mqtt mqtt://127.0.0.1:$MQTT_PORT --log-level warn ${SERVE_ARGS:-} \
  >>"$DIR/server.log" 2>&1 &
server=$!
pids+=($server)
for _ in $(seq 200); do curl -sf http://127.0.0.1:$HTTP_PORT/health >/dev/null && break; sleep 0.05; done
curl -sf -X POST http://127.0.0.1:$HTTP_PORT/iot/services -H 'Content-Type: application/json' -d '{"services":[
  {"apikey":"bench","entity_type":"AirQualityObserved","autoprovision":true,"attributes":[
   {"object_id":"t","name":"temperature","type":"Number"},{"object_id":"h","name":"relativeHumidity","type":"Number"},
   {"object_id":"pm","name":"pm25","type":"Integer"},{"object_id":"no2","name":"no2","type":"Integer"},
   {"object_id":"ws","name":"windSpeed","type":"Number"}]}]}'
accepted() { curl -s http://127.0.0.1:$HTTP_PORT/metrics | sed -n 's/^citytwin_ingest_messages_total{transport="mqtt"} //p'; }
cpu_ticks() { awk '{print $14 + $15}' /proc/$server/stat; }
TICK=$(getconf CLK_TCK)
# Provision the devices first (auto-provisioning is measured apart from ingest).
"$LOAD" publish --port "$MQTT_PORT" --messages "$DEVICES" --devices "$DEVICES" --format ul >/dev/null
settle() {  # until the count stops moving
  local a b; a=$(accepted); while sleep 0.2; b=$(accepted); [ "$a" != "$b" ]; do a=$b; done
}
# Until the server has used no CPU for 0.3 s (at most 10 s): the store flushing and compacting what
# the previous CityTwin run wrote would otherwise take CPU from the next mosquitto-alone run, and
# raise the ratio in CityTwin's favour.
quiesce() {
  local a b i; a=$(cpu_ticks)
  for i in $(seq 33); do sleep 0.3; b=$(cpu_ticks); [ "$a" = "$b" ] && return; a=$b; done
}
for _ in $(seq 400); do [ "$(accepted)" -ge "$DEVICES" ] && break; sleep 0.05; done

# Prints "ready" once it polls, then the steady clock (ns) when /metrics first counts `target` MQTT
# messages, polling every 10 ms over one keep-alive connection (a curl process per poll would take
# CPU from the run).
wait_for_count() {
  python3 - "$HTTP_PORT" "$1" <<'PY'
import http.client, re, sys, time
port, target = int(sys.argv[1]), int(sys.argv[2])
conn = http.client.HTTPConnection("127.0.0.1", port)
pattern = re.compile(rb'^citytwin_ingest_messages_total\{transport="mqtt"\} (\d+)', re.M)
deadline = time.monotonic() + 120
first = True
while time.monotonic() < deadline:
    conn.request("GET", "/metrics")
    m = pattern.search(conn.getresponse().read())
    if m and int(m.group(1)) >= target:
        break
    if first:
        print("ready", flush=True)
        first = False
    time.sleep(0.01)
print(time.monotonic_ns())
PY
}
rate_of() { echo "scale=0; $MESSAGES * 1000000000 / ($2 - $1)" | bc; }  # start_ns end_ns

mosquitto_alone() {  # format -> msg/s
  quiesce
  "$LOAD" subscribe --port "$MQTT_PORT" --messages "$MESSAGES" --bare >"$DIR/sub.txt" &
  local sub=$!
  for _ in $(seq 100); do grep -q subscribed "$DIR/sub.txt" 2>/dev/null && break; sleep 0.05; done
  local start end
  start=$("$LOAD" publish --port "$MQTT_PORT" --messages "$MESSAGES" --devices "$DEVICES" --format "$1" --bare |
          sed -n 's/^start_ns //p')
  wait $sub
  end=$(sed -n 's/^last_ns //p' "$DIR/sub.txt")
  rate_of "$start" "$end"
}

citytwin_mqtt() {  # format -> "msg/s cpu_us_per_message"
  settle
  quiesce
  local before target start end ticks0 ticks1 waiter
  before=$(accepted)
  target=$((before + MESSAGES))
  ticks0=$(cpu_ticks)
  wait_for_count "$target" >"$DIR/end.txt" &
  waiter=$!
  for _ in $(seq 200); do grep -q ready "$DIR/end.txt" 2>/dev/null && break; sleep 0.01; done
  start=$("$LOAD" publish --port "$MQTT_PORT" --messages "$MESSAGES" --devices "$DEVICES" --format "$1" |
          sed -n 's/^start_ns //p')
  wait $waiter
  end=$(grep -v ready "$DIR/end.txt")
  # CPU_UNTIL_QUIET=1: count the server's CPU until it is idle again, so that work done after the write
  # (the change stream's consumers: history, rules, the city applications) is counted too.
  [ "${CPU_UNTIL_QUIET:-0}" = 1 ] && quiesce
  ticks1=$(cpu_ticks)
  local got=$(( $(accepted) - before ))
  [ "$got" -ge "$MESSAGES" ] || echo "  (only $got of $MESSAGES written within 120 s)" >&2
  echo "$(rate_of "$start" "$end") $(echo "scale=1; ($ticks1 - $ticks0) * 1000000 / $TICK / $MESSAGES" | bc)"
}

median() { sort -n | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

echo "| round | format | mosquitto alone | CityTwin MQTT (twin + history) | ratio | CityTwin CPU per message |"
echo "|---|---|---|---|---|---|"
declare -A ratios
for round in $(seq "$ROUNDS"); do
  for format in ul json; do
    alone=$(mosquitto_alone $format)
    read -r city cpu < <(citytwin_mqtt $format)
    ratio=$(( 100 * city / alone ))
    ratios[$format]+="$ratio "
    echo "| $round | $format | $alone msg/s | $city msg/s | $ratio% | $cpu µs |"
  done
done
for format in ul json; do
  echo "| median ratio, $format ($ROUNDS rounds) | | | | **$(echo ${ratios[$format]} | tr ' ' '\n' | median)%** | ≥ 90% |"
done
dropped=$(curl -s http://127.0.0.1:$HTTP_PORT/metrics | awk '/^citytwin_ingest_dropped_total/{s+=$2} END{print s+0}')
echo "| dropped during the MQTT runs | $dropped | (0 expected) |"

# HTTP
cat >"$DIR/post.lua" <<LUA
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", "/iot/d?k=bench&i=d" .. (i % $DEVICES), {["Content-Type"] = "text/plain"},
                    "t|21.5|h|40|pm|" .. (i % 500) .. "|no2|33|ws|2.5")
end
LUA
for connections in $CONNECTIONS; do
  quiesce
  ticks0=$(cpu_ticks)
  wrk -t2 -c"$connections" -d"$DURATION" -s "$DIR/post.lua" http://127.0.0.1:$HTTP_PORT >"$DIR/wrk.txt"
  ticks1=$(cpu_ticks)
  http=$(sed -n 's/^Requests\/sec: *\([0-9.]*\)/\1/p' "$DIR/wrk.txt")
  total=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$DIR/wrk.txt")
  non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\)/\1/p' "$DIR/wrk.txt")
  latency=$(awk '/Latency/{print $2; exit}' "$DIR/wrk.txt")
  cpu=$(echo "scale=1; ($ticks1 - $ticks0) * 1000000 / $TICK / $total" | bc)
  echo "| CityTwin HTTP POST /iot/d, 1 reading × 5 measures, $connections connections, answered when durable | ${http%.*} msg/s (mean latency $latency, non-2xx ${non2xx:-0}, server CPU $cpu µs/msg) | ≥ 50,000 msg/s |"
done
