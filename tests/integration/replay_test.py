#!/usr/bin/env python3
"""citytwin replay drives the Beijing air-quality subset (data/beijing-air: 12 stations, 72 hours)
through a real mosquitto broker into the twin, as 12 devices would:

- the devices are provisioned through the IoT Agent API (--provision) with their locations;
- every row arrives (864 MQTT messages, none dropped), paced by --speedup;
- each station's entity ends with the values and time (Beijing time, +08:00) of its last row.

    python3 replay_test.py --binary build/release/citytwin
"""

import csv
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, test_arguments  # noqa: E402
from testkit import Broker  # noqa: E402

DATA = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "beijing-air"))
READINGS = os.path.join(DATA, "air-quality-2017-02-01_03.csv")
TENANT = "beijing"


def metrics(server):
    out = {}
    for line in server.request("GET", "/metrics").text().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def main():
    args = test_arguments(__doc__.splitlines()[0]).parse_args()
    t = Checker("replay_test")
    with open(READINGS, newline="") as f:
        rows = list(csv.DictReader(f))
    last = {}
    for row in rows:
        last[row["station"].lower()] = row
    broker = Broker().start()
    try:
        with Server(args.binary, keep=args.keep, extra_args=["--mqtt", "mqtt://127.0.0.1:%d" % broker.port]) as server:
            t.step("replaying 72 hours of 12 stations at 360,000x through MQTT")
            started = time.monotonic()
            r = subprocess.run([args.binary, "replay", "--csv", READINGS, "--to", "mqtt://127.0.0.1:%d" % broker.port,
                                "--provision", server.base_url, "--service", TENANT, "--apikey", "beijing-air",
                                "--locations", os.path.join(DATA, "stations.csv"), "--utc-offset", "+08:00",
                                "--speedup", "360000"], capture_output=True, text=True, timeout=60)
            elapsed = time.monotonic() - started
            t.expect_equal(r.returncode, 0, "citytwin replay exits 0 (every message acknowledged by the broker)")
            t.expect("864 messages sent, 0 failed" in r.stdout + r.stderr, "864 messages sent", "864", r.stdout + r.stderr)
            t.expect(elapsed >= 0.6, "paced by the speed-up: 71 hours at 360,000x take 0.7 s", ">= 0.6 s", elapsed)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and \
                    metrics(server).get('citytwin_ingest_messages_total{transport="mqtt"}', 0) < 864:
                time.sleep(0.1)
            m = metrics(server)
            t.expect_equal(m.get('citytwin_ingest_messages_total{transport="mqtt"}'), 864, "every message ingested")
            t.expect_equal(sum(v for k, v in m.items() if k.startswith("citytwin_ingest_dropped_total")), 0, "none dropped")
            t.expect_equal(m.get("citytwin_ingest_devices"), 12, "12 devices provisioned")

            t.step("each station's entity holds its last row")
            r = server.request("GET", "/ngsi-ld/v1/entities?type=AirQualityObserved&limit=100&options=keyValues",
                               headers={"NGSILD-Tenant": TENANT})
            stations = {e["id"].rsplit(":", 1)[1]: e for e in r.json()}
            t.expect_equal(sorted(stations), sorted(last), "one entity per station")
            for name in ("dongsi", "changping", "wanshouxigong"):
                e, row = stations.get(name, {}), last[name]
                t.expect_equal(e.get("pm25"), float(row["PM2.5"]) if row["PM2.5"] != "NA" else None, name + " pm25")
                t.expect_equal(e.get("wd"), row["wd"], name + " wind direction (a Text column)")
                t.expect_equal(e.get("location", {}).get("type"), "Point", name + " location from stations.csv")
            e = server.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:dongsi",
                               headers={"NGSILD-Tenant": TENANT}).json()
            t.expect_equal(e.get("temp", {}).get("observedAt"), "2017-02-03T15:00:00.000Z",
                           "observedAt: 2017-02-03 23:00 in Beijing")
            t.expect(re.match(r"^-?\d", str(e.get("pres", {}).get("value"))), "pressure is a number")
    finally:
        broker.cleanup()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
