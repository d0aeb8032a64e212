#!/usr/bin/env bash
# The demo city: `citytwin demo` serves Beijing (16 districts, 12 air-quality stations replaying a
# year of their real hourly data) and Los Angeles (tenant los-angeles: the 207 METR-LA road sensors
# replaying their real week), live, looped and stamped now, with every default rule active. The feed
# runs inside the server, so no broker is needed. If mosquitto is installed (or a broker answers on
# the MQTT port), the server also ingests devices over MQTT, so you can publish a reading yourself.
# Ctrl-C stops everything this script started.
#   CITYTWIN_LISTEN (127.0.0.1:1026)  CITYTWIN_DATA (var/demo)  CITYTWIN_MQTT_PORT (1883)
#   CITYTWIN_SPEED (120: two data hours a minute; 1: real time)
#   CITYTWIN_REPLAY=1 to replace the Beijing feed by the older end-to-end story: 72 hours of 12
#     stations published over MQTT by `citytwin replay` (devices → MQTT → twin → AQI → rules → alerts)
set -euo pipefail
cd "$(dirname "$0")/.."

listen=${CITYTWIN_LISTEN:-127.0.0.1:1026}
data=${CITYTWIN_DATA:-var/demo}
mqtt_port=${CITYTWIN_MQTT_PORT:-1883}
speed=${CITYTWIN_SPEED:-120}
binary=./build/release/citytwin
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

mqtt=()
if (exec 3<>"/dev/tcp/127.0.0.1/$mqtt_port") 2>/dev/null; then
  echo "demo: using the MQTT broker already on port $mqtt_port"
  mqtt=(--mqtt "mqtt://127.0.0.1:$mqtt_port")
elif command -v mosquitto >/dev/null; then
  mkdir -p var
  echo "demo: starting mosquitto on 127.0.0.1:$mqtt_port (log in var/mosquitto.log)"
  mosquitto -p "$mqtt_port" >var/mosquitto.log 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$mqtt_port") 2>/dev/null && break; sleep 0.1; done
  mqtt=(--mqtt "mqtt://127.0.0.1:$mqtt_port")
else
  echo "demo: no MQTT broker (install mosquitto for device ingest); the live feed runs in the server"
fi

[ "${CITYTWIN_REPLAY:-0}" = 1 ] && speed=0
"$binary" demo --listen "$listen" --data-dir "$data" --speed "$speed" "${mqtt[@]}" &
server=$!
pids+=($server)
for _ in $(seq 100); do curl -sf "http://$listen/health" >/dev/null 2>&1 && break; sleep 0.1; done

if [ "${CITYTWIN_REPLAY:-0}" = 1 ] && [ ${#mqtt[@]} -gt 0 ]; then
  "$binary" replay --csv data/beijing-air/air-quality-2017-02-01_03.csv --to "mqtt://127.0.0.1:$mqtt_port" \
    --provision "http://$listen" --apikey beijing-air --locations data/beijing-air/stations.csv \
    --utc-offset +08:00 --speedup 3600 &
  pids+=($!)
  echo "demo: replaying 72 hours of 12 Beijing stations over MQTT (one hour of data a second)"
fi
echo "demo: the city is live on http://$listen; try"
echo "  curl 'http://$listen/ngsi-ld/v1/entities?type=AirQualityObserved&options=keyValues&pick=id,pm25,airQualityIndex,airQualityLevel'"
echo "  curl -H 'NGSILD-Tenant: los-angeles' 'http://$listen/ngsi-ld/v1/entities?type=TrafficFlowObserved&options=keyValues&pick=id,congestionIndex,congestionLevel&limit=5'"
echo "  curl -H 'NGSILD-Tenant: los-angeles' 'http://$listen/ngsi-ld/v1/entities?type=https://smartdatamodels.org/dataModel.KeyPerformanceIndicator/KeyPerformanceIndicator&options=keyValues&pick=id,kpiValue'"
echo "  curl 'http://$listen/ngsi-ld/v1/entities?type=https://smartdatamodels.org/dataModel.Alert/Alert&options=keyValues'"
echo "  curl 'http://$listen/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:AirQualityObserved:dongsi?attrs=pm25,airQualityIndex&options=temporalValues'"
wait "$server"
