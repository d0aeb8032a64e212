#!/usr/bin/env python3
"""The air-quality application end to end: a month of the Beijing Dongsi station is back-filled with
`citytwin import`, and every daily report (GET /city/v1/air/daily and the month's calendar, on
hj633-2012 and hj633-2026) is compared with an independent computation written here from the raw
CSV. Then: the real-time AQI appears on the station after a reading, bad input gets problem details
and is counted on /metrics, the city settings are validated and change the default profile, and
the KPI entities appear.

    python3 air_quality_test.py --binary build/release/citytwin [--fixtures tests/fixtures]
"""

import calendar
import csv
import datetime
import math
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, stop_and_check, test_arguments  # noqa: E402

STATION = "urn:ngsi-ld:AirQualityObserved:Beijing-Dongsi"
YEAR, MONTH = 2016, 7  # a summer month with gaps: days below 20 values, O3 windows below 6
COLUMNS = {"PM2.5": "pm25", "PM10": "pm10", "SO2": "so2", "NO2": "no2", "CO": "co", "O3": "o3"}

# HJ 633 breakpoints (IAQI 0, 50, 100, 150, 200, 300, 400, 500), µg/m³, CO in mg/m³.
INDEX = [0, 50, 100, 150, 200, 300, 400, 500]
TABLES_2012 = {
    "so2": [0, 50, 150, 475, 800, 1600, 2100, 2620],
    "no2": [0, 40, 80, 180, 280, 565, 750, 940],
    "co": [0, 2, 4, 14, 24, 36, 48, 60],
    "pm10": [0, 50, 150, 250, 350, 420, 500, 600],
    "pm25": [0, 35, 75, 115, 150, 250, 350, 500],
    "o3_1h": [0, 160, 200, 300, 400, 800, 1000, 1200],
    "o3_8h": [0, 100, 160, 215, 265, 800],
}
TABLES_2026 = dict(TABLES_2012, pm25=[0, 35, 60, 115, 150, 250, 350, 500], pm10=[0, 50, 120, 250, 350, 420, 500, 600])
ORDER = ["so2", "no2", "co", "pm10", "pm25", "o3_1h", "o3_8h"]


def iaqi(table, c):
    if c > table[-1]:
        return None
    for i in range(1, len(table)):
        if c <= table[i]:
            exact = (INDEX[i] - INDEX[i - 1]) / (table[i] - table[i - 1]) * (c - table[i - 1]) + INDEX[i - 1]
            return math.ceil(exact - 1e-9)
    return None


def expected_day(hours, tables):
    """hours: {pollutant: [value or None] * 24} in µg/m³ -> the expected report."""
    conc = {}
    for p in ["so2", "no2", "co", "pm10", "pm25"]:
        vs = [v for v in hours[p] if v is not None]
        if len(vs) >= 20:
            conc[p] = sum(vs) / len(vs)
    o3 = hours["o3"]
    if any(v is not None for v in o3):
        conc["o3_1h"] = max(v for v in o3 if v is not None)
    windows = []
    for s in range(17):
        vs = [v for v in o3[s:s + 8] if v is not None]
        if len(vs) >= 6:
            windows.append(sum(vs) / len(vs))
    if windows:
        conc["o3_8h"] = max(windows)
    table_conc = {k: (v / 1000 if k == "co" else v) for k, v in conc.items()}
    sub = {}
    for k in ORDER:
        if k not in table_conc:
            continue
        i = iaqi(tables[k], table_conc[k])
        if i is None and k == "o3_8h":  # above 800: the 1-h IAQI
            i = max(iaqi(tables["o3_1h"], table_conc.get("o3_1h", table_conc[k])) or 500, 300)
        sub[k] = 500 if i is None else i
    aqi = max(sub.values()) if sub else None
    primary = [k for k in ORDER if k in sub and aqi > 50 and sub[k] == aqi]
    nhours = sum(1 for h in range(24) if any(hours[p][h] is not None for p in hours))
    return {"aqi": aqi, "iaqi": sub, "primaryPollutants": primary, "concentrations": table_conc, "hours": nhours}


def level(aqi):
    for top, key in [(50, "excellent"), (100, "good"), (150, "lightPollution"), (200, "moderatePollution"),
                     (300, "heavyPollution")]:
        if aqi <= top:
            return key
    return "severePollution"


def compare(t, got, want, what):
    ok = (got.get("aqi") == want["aqi"] and got.get("iaqi") == want["iaqi"] and
          got.get("primaryPollutants") == want["primaryPollutants"] and got.get("hours") == want["hours"] and
          set(got.get("concentrations", {})) == set(want["concentrations"]) and
          all(abs(got["concentrations"][k] - v) <= 0.0006 for k, v in want["concentrations"].items()) and
          (want["aqi"] is None or got.get("level") == level(want["aqi"])))
    t.expect(ok, what, want, got)


def import_station_rows(t, server, header, rows):
    """Back-fills CSV rows of the Beijing data set (the columns of COLUMNS, Beijing local hours) as the
    history of STATION with `citytwin import`, into the server's data dir before it starts."""
    subset = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="")
    try:
        writer = csv.DictWriter(subset, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
        subset.close()
        os.makedirs(server.data_dir, exist_ok=True)
        cmd = [server.binary, "import", "--data-dir", server.data_dir, "--file", subset.name, "--entity-id", STATION,
               "--entity-type", "AirQualityObserved", "--time-columns", "year,month,day,hour", "--utc-offset", "+08:00"]
        for col, p in COLUMNS.items():
            cmd += ["--column", "%s=%s" % (col, p)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        t.expect(done.returncode == 0, "import exits 0", 0, done.stdout + done.stderr)
    finally:
        os.unlink(subset.name)


def main():
    args = test_arguments(__doc__).parse_args()
    t = Checker("air quality (Beijing Dongsi, %04d-%02d)" % (YEAR, MONTH))
    path = os.path.join(args.fixtures, "beijing-air", "PRSA_Data_Dongsi_20130301-20170228.csv")
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames
        rows = [r for r in reader if (int(r["year"]), int(r["month"])) in ((YEAR, MONTH), (YEAR, MONTH - 1), (YEAR, MONTH + 1))]
    # The days of the month, hour by hour (the CSV's hours are Beijing local time, the day's start).
    days = {}
    for r in rows:
        if (int(r["year"]), int(r["month"])) != (YEAR, MONTH):
            continue
        day = days.setdefault(int(r["day"]), {p: [None] * 24 for p in COLUMNS.values()})
        for col, p in COLUMNS.items():
            if r[col] != "NA":
                day[p][int(r["hour"])] = float(r[col])

    server = Server(args.binary, keep=args.keep, extra_args=["--applications", "air"])
    try:
        import_station_rows(t, server, header, rows)
        server.start()

        t.step("every daily report of the month against the CSV")
        for profile, tables in (("hj633-2012", TABLES_2012), ("hj633-2026", TABLES_2026)):
            started = time.monotonic()
            r = server.request("GET", "/city/v1/air/calendar?" + urllib.parse.urlencode(
                dict(id=STATION, month="%04d-%02d" % (YEAR, MONTH), profile=profile)))
            t.expect_status(r, 200, "the calendar (%s)" % profile)
            t.step("calendar %s answered in %.1f ms" % (profile, (time.monotonic() - started) * 1000))
            month = r.json()["days"] if r.status == 200 else []
            t.expect_equal(len(month), calendar.monthrange(YEAR, MONTH)[1], "one entry per day")
            for d, got in enumerate(month, start=1):
                empty = {p: [None] * 24 for p in COLUMNS.values()}
                want = expected_day(days.get(d, empty), tables)
                t.expect_equal(got["date"], "%04d-%02d-%02d" % (YEAR, MONTH, d), "calendar day %d" % d)
                compare(t, got, want, "calendar %s day %d" % (profile, d))
                r = server.request("GET", "/city/v1/air/daily?" + urllib.parse.urlencode(
                    dict(id=STATION, date="%04d-%02d-%02d" % (YEAR, MONTH, d), profile=profile)))
                t.expect_status(r, 200, "daily report %s day %d" % (profile, d))
                if r.status == 200:
                    compare(t, r.json(), want, "daily %s day %d" % (profile, d))
                    t.expect_equal(r.json()["profile"], profile, "the report names its profile")

        t.step("bad requests are problem details naming the fault")
        q = lambda **kw: "/city/v1/air/daily?" + urllib.parse.urlencode(kw)  # noqa: E731
        for path_, named in [(q(id=STATION, date="2015-01-05", profile="hj633-1999"), "hj633-1999"),
                             (q(id=STATION, date="2015-13-01"), "2015-13-01"),
                             (q(id=STATION, date="yesterday"), "yesterday"),
                             (q(id=STATION), "date"),
                             ("/city/v1/air/calendar?" + urllib.parse.urlencode(dict(id=STATION, month="2015-1")),
                              "2015-1")]:
            r = server.request("GET", path_)
            t.expect_problem(r, 400, "BadRequestData", "400 for " + path_)
            t.expect(named in r.text(), "the problem names " + named, named, r.text())
        r = server.request("POST", "/ngsi-ld/v1/entities", {"Content-Type": "application/json"},
                           json_body={"id": "urn:ngsi-ld:Building:b1", "type": "Building"})
        r = server.request("GET", q(id="urn:ngsi-ld:Building:b1", date="2015-01-05"))
        t.expect_problem(r, 400, "BadRequestData", "a non-station")
        t.expect("not an air-quality station" in r.text(), "the problem says why", "station", r.text())
        r = server.request("GET", q(id="urn:ngsi-ld:AirQualityObserved:nowhere", date="2015-01-05"))
        t.expect_problem(r, 404, "ResourceNotFound", "an unknown station")

        t.step("the real-time AQI appears on the station after a reading")
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:00:00Z")
        reading = {p: {"type": "Property", "value": v, "observedAt": now}
                   for p, v in [("pm25", 80.0), ("pm10", 120.0), ("so2", 10.0), ("no2", 30.0), ("co", 900.0), ("o3", 50.0)]}
        r = server.request("PATCH", "/ngsi-ld/v1/entities/%s/attrs" % STATION, {"Content-Type": "application/json"},
                           json_body=reading)
        t.expect_status(r, 204, "a reading")
        # Real time: 1-h tables for SO2, NO2, CO, O3; PM on their 24-h tables.
        hourly = {"so2": [0, 150, 500, 650, 800], "no2": [0, 100, 200, 700, 1200, 2340, 3090, 3840],
                  "co": [0, 5, 10, 35, 60, 90, 120, 150], "o3": TABLES_2012["o3_1h"],
                  "pm10": TABLES_2012["pm10"], "pm25": TABLES_2012["pm25"]}
        want = {p: iaqi(hourly[p], reading[p]["value"] / (1000 if p == "co" else 1)) for p in hourly}
        want_aqi = max(want.values())
        # The AQI is derived inside the reading's own write: there as soon as the write is acknowledged.
        station = server.request("GET", "/ngsi-ld/v1/entities/%s?options=keyValues" % STATION).json()
        t.expect_equal(station.get("airQualityIndex"), want_aqi, "airQualityIndex")
        t.expect_equal(station.get("airQualityLevel"), level(want_aqi), "airQualityLevel")
        t.expect_equal(station.get("iaqi"), want, "iaqi")
        t.expect_equal(station.get("primaryPollutants"), [p for p in ["pm10", "pm25"] if want[p] == want_aqi],
                       "primaryPollutants")
        # ...and recorded in history with it.
        r = server.request("GET", "/ngsi-ld/v1/temporal/entities/%s?attrs=airQualityIndex&lastN=1" % STATION)
        t.expect(r.status == 200 and r.json().get("airQualityIndex", [{}])[0].get("value") == want_aqi,
                 "the AQI has history", want_aqi, r)

        t.step("a negative concentration: stored, no AQI, counted")
        bad = {"pm25": {"type": "Property", "value": -4, "observedAt": now}}
        r = server.request("PATCH", "/ngsi-ld/v1/entities/%s/attrs" % STATION, {"Content-Type": "application/json"},
                           json_body=bad)
        t.expect_status(r, 204, "the reading is accepted")
        deadline, metrics = time.monotonic() + 15, ""
        while time.monotonic() < deadline:
            metrics = server.request("GET", "/metrics").text()
            if 'citytwin_air_aqi_skipped_total{cause="negative"} 1' in metrics:
                break
            time.sleep(0.05)
        t.expect('citytwin_air_aqi_skipped_total{cause="negative"} 1' in metrics, "counted on /metrics", "1",
                 [l for l in metrics.splitlines() if "air_" in l])
        r = server.request("GET", "/ngsi-ld/v1/entities/%s?options=keyValues" % STATION)
        t.expect(r.json().get("pm25") == -4 and "negative" in r.json().get("aqiProblem", {}).get("detail", ""),
                 "the reading is stored and the station says why its AQI is missing", "aqiProblem", r.json())

        t.step("city settings")
        r = server.request("GET", "/admin/v1/city")
        t.expect(r.status == 200 and r.json().get("timeZone") == "Asia/Shanghai" and
                 r.json().get("aqiProfile") == "hj633-2012", "the defaults", "Asia/Shanghai", r)
        r = server.request("PATCH", "/admin/v1/city", {"Content-Type": "application/json"},
                           json_body={"timeZone": "Europe/Atlantis"})
        t.expect_problem(r, 400, "BadRequestData", "an unknown time zone")
        t.expect("Europe/Atlantis" in r.text(), "named", "Europe/Atlantis", r.text())
        r = server.request("PATCH", "/admin/v1/city", {"Content-Type": "application/json"},
                           json_body={"aqiProfile": "hj633-2026"})
        t.expect(r.status == 200 and r.json().get("aqiProfile") == "hj633-2026", "PATCH", "hj633-2026", r)
        r = server.request("GET", q(id=STATION, date="2015-01-05"))
        t.expect(r.status == 200 and r.json().get("profile") == "hj633-2026", "the tenant's profile is the default",
                 "hj633-2026", r)
        server.restart()
        r = server.request("GET", "/admin/v1/city")
        t.expect(r.status == 200 and r.json().get("aqiProfile") == "hj633-2026", "durable across a restart",
                 "hj633-2026", r)

        t.step("KPI entities")
        r = server.request("PATCH", "/ngsi-ld/v1/entities/%s/attrs" % STATION, {"Content-Type": "application/json"},
                           json_body=reading)
        deadline, kpis = time.monotonic() + 30, []
        while time.monotonic() < deadline:
            r = server.request("GET", "/ngsi-ld/v1/entities?" + urllib.parse.urlencode(dict(
                type="https://smartdatamodels.org/dataModel.KeyPerformanceIndicator/KeyPerformanceIndicator",
                options="keyValues", limit=100)))
            kpis = r.json() if r.status == 200 else []
            if any(k["id"].endswith(":meanAqi:hourly:city") for k in kpis):
                break
            time.sleep(0.2)
        t.expect(any(k["id"].endswith(":meanAqi:hourly:city") for k in kpis), "the city's hourly mean AQI KPI",
                 "meanAqi", [k["id"] for k in kpis])
    finally:
        stop_and_check(t, server)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
