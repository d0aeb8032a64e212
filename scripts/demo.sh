#!/usr/bin/env bash
# The demo city: starts mosquitto if no broker answers on the MQTT port, runs `citytwin demo` ingesting
# from it, and replays the Beijing air-quality subset (data/beijing-air) through MQTT as 12 live
# stations (72 hours at 3600x: one hour a second). Ctrl-C stops everything this script started.
#   CITYTWIN_LISTEN (127.0.0.1:1026)  CITYTWIN_DATA (var/demo)  CITYTWIN_MQTT_PORT (1883)
#   CITYTWIN_REPLAY=0 to serve without the replay
set -euo pipefail
cd "$(dirname "$0")/.."

listen=${CITYTWIN_LISTEN:-127.0.0.1:1026}
data=${CITYTWIN_DATA:-var/demo}
mqtt_port=${CITYTWIN_MQTT_PORT:-1883}
binary=./build/release/citytwin
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

if (exec 3<>"/dev/tcp/127.0.0.1/$mqtt_port") 2>/dev/null; then
  echo "demo: using the MQTT broker already on port $mqtt_port"
else
  mkdir -p var
  echo "demo: starting mosquitto on 127.0.0.1:$mqtt_port (log in var/mosquitto.log)"
  mosquitto -p "$mqtt_port" >var/mosquitto.log 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$mqtt_port") 2>/dev/null && break; sleep 0.1; done
fi

"$binary" demo --listen "$listen" --data-dir "$data" --mqtt "mqtt://127.0.0.1:$mqtt_port" &
server=$!
pids+=($server)
for _ in $(seq 100); do curl -sf "http://$listen/health" >/dev/null 2>&1 && break; sleep 0.1; done

# A rule the operations centre would start with: an alert per station while PM2.5 is over 150 µg/m³
# (China's "heavily polluted" band), cleared when it falls below 115.
curl -sf -X POST "http://$listen/admin/v1/rules" -H 'Content-Type: application/json' -d '{
  "id": "pm25-heavy", "watch": {"type": "AirQualityObserved"}, "when": "pm25>150", "clearWhen": "pm25<115",
  "severity": "high", "actions": [{"alert": {"category": "environment", "subCategory": "airPollution"}}]}' \
  >/dev/null || echo "demo: the rule pm25-heavy exists already"

if [ "${CITYTWIN_REPLAY:-1}" != 0 ]; then
  "$binary" replay --csv data/beijing-air/air-quality-2017-02-01_03.csv --to "mqtt://127.0.0.1:$mqtt_port" \
    --provision "http://$listen" --apikey beijing-air --locations data/beijing-air/stations.csv \
    --utc-offset +08:00 --speedup 3600 &
  pids+=($!)
  echo "demo: replaying 12 Beijing air-quality stations over MQTT (one hour of data a second); try"
  echo "  curl 'http://$listen/ngsi-ld/v1/entities?type=AirQualityObserved&options=keyValues&pick=id,pm25'"
  echo "  curl 'http://$listen/ngsi-ld/v1/entities?type=https://smartdatamodels.org/dataModel.Alert/Alert&options=keyValues'"
  echo "  curl 'http://$listen/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:AirQualityObserved:dongsi?attrs=pm25&options=temporalValues'"
fi
wait "$server"
