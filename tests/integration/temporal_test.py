#!/usr/bin/env python3
"""The temporal API over HTTP, where the expected answers are computed: temporal provision (POST with
explicit observedAt, a retried back-fill stored once), timerel/timeAt/endTimeAt, lastN, the core
selection filters, normalized and temporalValues, aggregatedValues checked against a computation
in Python over the same points, Content-Range paging, and the same answers once the compactor has
turned the old days into blocks and after a restart. The plain conversations (history from core
API writes, deletes, every 400) are in sessions/temporal.session.

    python3 temporal_test.py --binary build/release/citytwin
"""

import datetime
import json
import math
import os
import random
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, stop_and_check, test_arguments  # noqa: E402

JSON = {"Content-Type": "application/json"}
T = "/ngsi-ld/v1/temporal/entities"
DAY = 86400000


def iso(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def ms(text):
    return int(datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
               .timestamp() * 1000)


def get(server, path):
    return server.request("GET", path)


def q(**params):
    return "?" + urllib.parse.urlencode(params)


def python_aggregate(points, start, end, period):
    """[(bucket start, bucket end, values)] of the points in [start, end), buckets of `period` ms."""
    buckets = {}
    for t, v in points:
        if start <= t < end:
            i = (t - start) // period if period else 0
            buckets.setdefault(i, []).append(v)
    out = []
    for i in sorted(buckets):
        b0 = start + i * period if period else start
        b1 = min(end, b0 + period) if period else end
        out.append((b0, b1, buckets[i]))
    return out


def check_aggregation(t, server, eid, points, start, end, period_text, period_ms, label):
    params = dict(options="aggregatedValues", aggrMethods="totalCount,distinctCount,sum,avg,min,max,stddev,sumsq",
                  attrs="temperature", timerel="between", timeAt=iso(start), endTimeAt=iso(end))
    if period_text:
        params["aggrPeriodDuration"] = period_text
    r = get(server, T + "/" + eid + q(**params))
    if not t.expect(r.status == 200, "%s: aggregation answers 200" % label, 200, r):
        return
    attr = r.json()["temperature"]
    expected = python_aggregate(points, start, end, period_ms)
    t.expect(len(attr["avg"]) == len(expected), "%s: %d buckets" % (label, len(expected)), len(expected), len(attr["avg"]))
    for i, (b0, b1, values) in enumerate(expected[: len(attr["avg"])]):
        n = len(values)
        mean = sum(values) / n
        want = {"totalCount": n, "distinctCount": len(set(values)), "sum": sum(values), "avg": mean,
                "min": min(values), "max": max(values),
                "stddev": math.sqrt(sum((v - mean) ** 2 for v in values) / n), "sumsq": sum(v * v for v in values)}
        for method, value in want.items():
            got = attr[method][i]
            ok = abs(got[0] - value) <= 1e-9 * max(1.0, abs(value)) and got[1] == iso(b0) and got[2] == iso(b1)
            t.expect(ok, "%s: bucket %d %s" % (label, i, method), [value, iso(b0), iso(b1)], got)


def main():
    args = test_arguments(__doc__).parse_args()
    t = Checker("temporal API")
    rng = random.Random(5)
    server = Server(args.binary, keep=args.keep,
                    extra_args=["--history-compact-interval-ms", "100", "--history-compact-grace-ms", "0"])
    try:
        server.start()
        eid = "urn:ngsi-ld:Sensor:t1"
        base = ms("2024-03-01T00:00:00.000Z")

        t.step("temporal provision: create with explicit observedAt, then add instances")
        points = []  # (ms, value) of temperature
        instances = []
        for k in range(3 * 24):  # three days, hourly
            when = base + k * 3600000
            value = round(rng.uniform(-5, 30), 1)
            points.append((when, value))
            instances.append({"type": "Property", "value": value, "observedAt": iso(when), "unitCode": "CEL"})
        r = server.request("POST", T, JSON, json_body={"id": eid, "type": "Sensor", "temperature": instances[:48],
                                                       "mode": [{"type": "Property", "value": "auto",
                                                                 "observedAt": iso(base)},
                                                                {"type": "Property", "value": "eco",
                                                                 "observedAt": iso(base + DAY)}]})
        t.expect(r.status == 201, "POST /temporal/entities creates", 201, r)
        r = server.request("POST", T + "/" + eid + "/attrs", JSON, json_body={"temperature": instances[48:]})
        t.expect(r.status == 204, "POST /temporal/entities/{id}/attrs adds", 204, r)
        # A client that got no answer retries: the same instances are stored once (keyed by their content).
        r = server.request("POST", T + "/" + eid + "/attrs", JSON, json_body={"temperature": instances[60:]})
        t.expect(r.status == 204, "a retried back-fill is accepted", 204, r)
        r = server.request("POST", T + "/urn:ngsi-ld:Sensor:none/attrs", JSON, json_body={"temperature": instances[:1]})
        t.expect(r.status == 404, "adding to a missing entity is 404", 404, r)
        r = get(server, "/ngsi-ld/v1/entities/" + eid + "?options=keyValues")
        t.expect(r.status == 200 and r.json().get("temperature") == points[-1][1],
                 "the current state holds the newest value", points[-1][1], r)

        def check_reads(label):
            r = get(server, T + "/" + eid + q(attrs="temperature"))
            got = [(ms(i["observedAt"]), i["value"]) for i in r.json().get("temperature", [])]
            t.expect_equal(got, points, label + ": every instance, in time order")
            t.expect(all(i.get("unitCode") == "CEL" for i in r.json().get("temperature", [])), label + ": unitCode kept")
            r = get(server, T + "/" + eid + q(attrs="temperature", options="temporalValues", timerel="before",
                                               timeAt=iso(base + 5 * 3600000)))
            t.expect_equal(r.json()["temperature"]["values"], [[v, iso(w)] for w, v in points[:5]], label + ": before")
            r = get(server, T + "/" + eid + q(attrs="temperature", options="temporalValues", timerel="after",
                                               timeAt=iso(points[-3][0])))
            t.expect_equal(r.json()["temperature"]["values"], [[v, iso(w)] for w, v in points[-2:]], label + ": after")
            r = get(server, T + "/" + eid + q(attrs="temperature", options="temporalValues", timerel="between",
                                               timeAt=iso(base + DAY - 3600000), endTimeAt=iso(base + DAY + 7200000)))
            t.expect_equal(r.json()["temperature"]["values"], [[v, iso(w)] for w, v in points[23:26]], label + ": between")
            r = get(server, T + "/" + eid + q(attrs="temperature", options="temporalValues", lastN=4,
                                               timerel="before", timeAt=iso(base + DAY)))
            t.expect_equal(r.json()["temperature"]["values"], [[v, iso(w)] for w, v in points[20:24]], label + ": lastN")
            r = get(server, T + "/" + eid + q(attrs="mode", options="temporalValues"))
            t.expect_equal(r.json().get("mode", {}).get("values"), [["auto", iso(base)], ["eco", iso(base + DAY)]],
                           label + ": a non-numeric attribute")
            check_aggregation(t, server, eid, points, base, base + 3 * DAY, "PT6H", 6 * 3600000, label + " PT6H")
            check_aggregation(t, server, eid, points, base + 7200000, base + 2 * DAY + 1800000, "P1D", DAY, label + " P1D")
            check_aggregation(t, server, eid, points, base, base + 3 * DAY, None, 0, label + " whole range")
            r = get(server, T + q(type="Sensor", q="temperature>-100", attrs="temperature", options="aggregatedValues",
                                  aggrMethods="totalCount", aggrPeriodDuration="P1D"))
            t.expect_equal(r.json(), [{"id": eid, "type": "Sensor", "temperature": {"type": "Property", "totalCount": [
                [24, iso(base + d * DAY), iso(base + (d + 1) * DAY)] for d in range(3)]}}],
                label + ": selection by type and q on the current state, P1D buckets aligned to days")
            r = get(server, T + q(idPattern="^urn:ngsi-ld:Sensor:t.*", attrs="mode", options="aggregatedValues",
                                  aggrMethods="totalCount,distinctCount"))
            got = r.json()[0]["mode"] if r.status == 200 and r.json() else r
            t.expect(isinstance(got, dict) and got["totalCount"][0][0] == 2 and got["distinctCount"][0][0] == 2,
                     label + ": counting a non-numeric attribute", "2 and 2", got)

        check_reads("raw records")
        t.step("after compaction into day blocks")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            r = get(server, T + "/" + eid + q(attrs="temperature", lastN=1))
            if "-" in r.json()["temperature"][0]["instanceId"]:
                break
            time.sleep(0.1)
        t.expect("-" in r.json()["temperature"][0]["instanceId"], "the old days were compacted", "a block instance", r)
        check_reads("compacted")
        server.restart()
        check_reads("after a restart")

        t.step("paging long histories with Content-Range")
        many = [{"type": "Property", "value": k, "observedAt": iso(base + k * 60000)} for k in range(2500)]
        r = server.request("POST", T, JSON, json_body={"id": "urn:ngsi-ld:Sensor:long", "type": "Meter", "count": many})
        t.expect(r.status == 201, "2500 instances", 201, r)
        r = get(server, T + "/urn:ngsi-ld:Sensor:long" + q(options="temporalValues"))
        values = r.json()["count"]["values"]
        t.expect(r.status == 206 and len(values) == 1000 and values[0][0] == 0 and values[-1][0] == 999,
                 "first page: 206 with the oldest 1000", "206, 0..999", (r.status, len(values)))
        t.expect_equal(r.header("Content-Range"), "date-time %s-%s/*" % (iso(base), iso(base + 999 * 60000)),
                       "Content-Range of the first page")
        seen = [v[0] for v in values]
        while r.status == 206:
            last = values[-1][1]
            r = get(server, T + "/urn:ngsi-ld:Sensor:long" + q(options="temporalValues", timerel="after", timeAt=last))
            values = r.json()["count"]["values"]
            seen += [v[0] for v in values]
        t.expect_equal(seen, list(range(2500)), "the pages together hold every instance once")
        r = get(server, T + "/urn:ngsi-ld:Sensor:long" + q(options="temporalValues", lastN=1500))
        values = r.json()["count"]["values"]
        t.expect(r.status == 206 and values[0][0] == 1500 and values[-1][0] == 2499,
                 "lastN over the page limit pages backwards", "206, 1500..2499", (r.status, values[0], values[-1]))
        t.expect_equal(r.header("Content-Range"),
                       "date-time %s-%s/1500" % (iso(base + 2499 * 60000), iso(base + 1500 * 60000)),
                       "Content-Range of a backwards page")

        t.step("deleting an instance of a compacted day (the plain deletes are in sessions/temporal.session)")
        r = get(server, T + "/" + eid + q(attrs="temperature"))
        victim = r.json()["temperature"][10]
        t.expect("-" in victim["instanceId"], "the instance is a point of a day block", "a block instance", victim)
        r = server.request("DELETE", T + "/" + eid + "/attrs/temperature/" + victim["instanceId"])
        t.expect(r.status == 204, "delete it", 204, r)
        r = get(server, T + "/" + eid + q(attrs="temperature", options="temporalValues"))
        t.expect_equal(r.json()["temperature"]["values"], [[v, iso(w)] for w, v in points[:10] + points[11:]],
                       "every other instance stays")
    finally:
        stop_and_check(t, server)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
