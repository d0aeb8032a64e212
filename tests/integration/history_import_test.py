#!/usr/bin/env python3
"""`citytwin import` round trip: one Beijing station (35,064 hourly rows) is imported into a fresh
data dir, the server is started on it, and the temporal API's count, mean, min and max of the
non-missing PM2.5 values (overall and for one month), a sample of instances and the current state
match a computation straight from the CSV.

    python3 history_import_test.py --binary build/release/citytwin [--fixtures tests/fixtures]
"""

import csv
import datetime
import os
import subprocess
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, stop_and_check, test_arguments  # noqa: E402

STATION = "urn:ngsi-ld:AirQualityObserved:Beijing-Dongsi"
CST = datetime.timezone(datetime.timedelta(hours=8))


def iso(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def close(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def main():
    args = test_arguments(__doc__).parse_args()
    t = Checker("history import (Beijing Dongsi)")
    path = os.path.join(args.fixtures, "beijing-air", "PRSA_Data_Dongsi_20130301-20170228.csv")
    rows = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            when = datetime.datetime(int(row["year"]), int(row["month"]), int(row["day"]), int(row["hour"]), tzinfo=CST)
            rows.append((when, row))
    pm25 = [(w, float(r["PM2.5"])) for w, r in rows if r["PM2.5"] != "NA"]
    t.expect(len(rows) == 35064, "the CSV has 35,064 rows", 35064, len(rows))

    server = Server(args.binary, keep=args.keep)
    try:
        os.makedirs(server.data_dir, exist_ok=True)
        started = time.monotonic()
        cmd = [server.binary, "import", "--data-dir", server.data_dir, "--file", path, "--entity-id", STATION,
               "--entity-type", "AirQualityObserved", "--time-columns", "year,month,day,hour", "--utc-offset", "+08:00",
               "--column", "PM2.5=pm25:GQ", "--column", "PM10=pm10:GQ", "--column", "NO2=no2:GQ",
               "--column", "TEMP=temperature:CEL", "--column", "wd=windDirection"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        t.expect(done.returncode == 0, "import exits 0", 0, done.stdout + done.stderr)
        t.step("imported in %.1f s: %s" % (time.monotonic() - started, (done.stdout + done.stderr).strip()[-200:]))
        bad = subprocess.run(cmd[:-2] + ["--column", "nope=x"], capture_output=True, text=True, timeout=60)
        t.expect(bad.returncode != 0 and "no column" in bad.stdout + bad.stderr, "an unknown column is refused", "error",
                 bad.stdout + bad.stderr)
        server.start()

        def aggregate(extra):
            params = dict(attrs="pm25", options="aggregatedValues", aggrMethods="totalCount,avg,min,max")
            params.update(extra)
            r = server.request("GET", "/ngsi-ld/v1/temporal/entities/%s?%s" % (STATION, urllib.parse.urlencode(params)))
            t.expect(r.status == 200, "aggregation answers 200", 200, r)
            return r.json()["pm25"] if r.status == 200 else None

        t.step("the whole history")
        got = aggregate({})
        values = [v for _, v in pm25]
        if got:
            t.expect_equal(got["totalCount"][0][0], len(values), "count of non-missing PM2.5")
            t.expect(close(got["avg"][0][0], sum(values) / len(values)), "mean PM2.5", sum(values) / len(values),
                     got["avg"][0][0])
            t.expect_equal([got["min"][0][0], got["max"][0][0]], [min(values), max(values)], "min and max")
            t.expect_equal(got["totalCount"][0][1:], [iso(pm25[0][0]), iso(pm25[-1][0]).replace(".000Z", ".001Z")],
                           "the range of the data")

        t.step("one month, by day")
        start = datetime.datetime(2015, 1, 1, tzinfo=datetime.timezone.utc)
        end = datetime.datetime(2015, 2, 1, tzinfo=datetime.timezone.utc)
        got = aggregate(dict(timerel="between", timeAt=iso(start), endTimeAt=iso(end), aggrPeriodDuration="P1D"))
        if got:
            for day in range(31):
                d0, d1 = start + datetime.timedelta(days=day), start + datetime.timedelta(days=day + 1)
                vs = [v for w, v in pm25 if d0 <= w < d1]
                mine = [b for b in got["avg"] if b[1] == iso(d0)]
                if not vs:
                    t.expect(not mine, "day %d: no bucket without values" % day, None, mine)
                    continue
                t.expect(len(mine) == 1 and close(mine[0][0], sum(vs) / len(vs)) and mine[0][2] == iso(d1),
                         "day %d: mean PM2.5" % day, [sum(vs) / len(vs), iso(d0), iso(d1)], mine)

        t.step("instances and the current state")
        r = server.request("GET", "/ngsi-ld/v1/temporal/entities/%s?%s" % (STATION, urllib.parse.urlencode(
            dict(attrs="pm25,windDirection", options="temporalValues", lastN=3))))
        t.expect_equal(r.json()["pm25"]["values"], [[v, iso(w)] for w, v in pm25[-3:]], "the last three PM2.5 values")
        wd = [(w, r_["wd"]) for w, r_ in rows if r_["wd"] != "NA"]
        t.expect_equal(r.json()["windDirection"]["values"], [[v, iso(w)] for w, v in wd[-3:]],
                       "a non-numeric column stays a string")
        r = server.request("GET", "/ngsi-ld/v1/entities/%s?options=keyValues&attrs=pm25,temperature" % STATION)
        last_temp = [float(r_["TEMP"]) for _, r_ in rows if r_["TEMP"] != "NA"][-1]
        t.expect_equal(r.json(), {"id": STATION, "type": "AirQualityObserved", "pm25": pm25[-1][1],
                                  "temperature": last_temp}, "the current state holds the newest values")
        r = server.request("GET", "/ngsi-ld/v1/temporal/entities?%s" % urllib.parse.urlencode(
            dict(type="AirQualityObserved", q="pm25>=0", attrs="pm25", options="aggregatedValues",
                 aggrMethods="totalCount")))
        t.expect(r.status == 200 and len(r.json()) == 1 and r.json()[0]["pm25"]["totalCount"][0][0] == len(values),
                 "selected by type and q", len(values), r)
    finally:
        stop_and_check(t, server)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
