#!/usr/bin/env python3
"""What history retention policies (/admin/v1/retention) do to the history: a policy for type Sensor
keeps raw history 30 days, then hourly roll-ups (the mean of each hour, checked against Python) for
a year, then nothing; a tenant-wide `*` policy without roll-ups deletes what is older than 200 days
of the other types. The policies' own conversation (bad policies, durability, tenants) is in
sessions/retention.session.

    python3 retention_test.py --binary build/release/citytwin
"""

import datetime
import os
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, stop_and_check, test_arguments  # noqa: E402

JSON = {"Content-Type": "application/json"}
T = "/ngsi-ld/v1/temporal/entities"
DAY = 86400000
HOUR = 3600000


def iso(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def main():
    args = test_arguments(__doc__).parse_args()
    t = Checker("history retention")
    server = Server(args.binary, keep=args.keep,
                    extra_args=["--history-compact-interval-ms", "100", "--history-compact-grace-ms", "0",
                                "--history-retention-interval-ms", "100"])
    today = int(time.time() * 1000) // DAY * DAY
    days = {"old": today - 400 * DAY, "mid": today - 100 * DAY, "new": today - 10 * DAY}

    def day_points(start, k):
        return [(start + i * 600000, round(10 + k + (i % 37) * 0.1, 1)) for i in range(144)]

    data = {name: day_points(start, k) for k, (name, start) in enumerate(days.items())}
    try:
        server.start()
        for eid, etype in (("urn:ngsi-ld:Sensor:r1", "Sensor"), ("urn:ngsi-ld:Meter:r1", "Meter")):
            instances = [{"type": "Property", "value": v, "observedAt": iso(w)} for name in data for w, v in data[name]]
            body = {"id": eid, "type": etype, "v": instances,
                    "state": [{"type": "Property", "value": "calibrating", "observedAt": iso(days["mid"] + 5000)}]}
            r = server.request("POST", T, JSON, json_body=body)
            t.expect(r.status == 201, "create %s with three days of history" % eid, 201, r)

        t.step("policies for Sensor and for every other type")
        r = server.request("PUT", "/admin/v1/retention/Sensor", JSON,
                           json_body={"keepRaw": "P30D", "rollUp": "PT1H", "keepRollUps": "P365D"})
        t.expect(r.status == 204, "PUT the Sensor policy", 204, r)
        r = server.request("PUT", "/admin/v1/retention/*", JSON, json_body={"keepRaw": "P200D"})
        t.expect(r.status == 204, "PUT the tenant-wide policy", 204, r)

        def values(eid, attr):
            r = server.request("GET", "%s/%s?%s" % (T, eid, urllib.parse.urlencode(
                {"attrs": attr, "options": "temporalValues"})))
            return [[v, w] for v, w in r.json().get(attr, {}).get("values", [])] if r.status == 200 else r

        hourly = []
        for h in range(24):
            vs = [v for w, v in data["mid"] if days["mid"] + h * HOUR <= w < days["mid"] + (h + 1) * HOUR]
            hourly.append((sum(vs) / len(vs), iso(days["mid"] + h * HOUR)))
        want_sensor = hourly + [(v, iso(w)) for w, v in data["new"]]
        want_meter = [(v, iso(w)) for name in ("mid", "new") for w, v in data[name]]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if len(values("urn:ngsi-ld:Sensor:r1", "v")) == len(want_sensor) and \
                    len(values("urn:ngsi-ld:Meter:r1", "v")) == len(want_meter):
                break
            time.sleep(0.2)
        got = values("urn:ngsi-ld:Sensor:r1", "v")
        t.expect(len(got) == len(want_sensor) and all(
            abs(a[0] - b[0]) < 1e-9 and a[1] == b[1] for a, b in zip(got, want_sensor)),
            "Sensor: the 400-day-old day is gone, the 100-day-old one is hourly means, the recent one raw",
            want_sensor[:3], got[:3] if isinstance(got, list) else got)
        t.expect_equal(values("urn:ngsi-ld:Sensor:r1", "state"), [["calibrating", iso(days["mid"] + 5000)]],
                       "Sensor: non-numeric history is kept past keepRaw when rolling up")
        t.expect_equal(values("urn:ngsi-ld:Meter:r1", "v"), [list(x) for x in want_meter],
                       "Meter (the * policy): only the 400-day-old day is gone")
        t.expect_equal(values("urn:ngsi-ld:Meter:r1", "state"), [["calibrating", iso(days["mid"] + 5000)]],
                       "Meter: 100 days is within keepRaw")

    finally:
        stop_and_check(t, server)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
