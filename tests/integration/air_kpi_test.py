#!/usr/bin/env python3
"""The air application's daily KPIs against an independent computation from the raw CSV.

Thirty real days of the Beijing Dongsi station (December 2016: good days and heavy smog) are moved to
the thirty local days before today, back-filled with `citytwin import`, and the server started with the
air application. Its daily KPIs must then say, for the city:
  - goodAirDaysShare: the share (%) of the window's station-days with a daily AQI of at most 100;
  - meanAqi (daily): yesterday's daily AQI (one station).
The expected values come from the daily computation in air_quality_test.py (HJ 633-2012, the default
profile), run here on the same rows.

    python3 air_kpi_test.py --binary build/release/citytwin [--fixtures tests/fixtures]
"""

import csv
import datetime
import os
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from air_quality_test import COLUMNS, TABLES_2012, expected_day, import_station_rows  # noqa: E402
from ngsi_session import Checker, Server, stop_and_check, test_arguments  # noqa: E402

SOURCE_YEAR, SOURCE_MONTH, DAYS = 2016, 12, 30
BEIJING = datetime.timezone(datetime.timedelta(hours=8))  # Asia/Shanghai: no daylight saving since 1991
KPI = "urn:ngsi-ld:KeyPerformanceIndicator:air:%s:daily:city"
KPI_CONTEXT = "https://raw.githubusercontent.com/smart-data-models/dataModel.KeyPerformanceIndicator/master/context.jsonld"
KPI_LINK = '<%s>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"' % KPI_CONTEXT


def kpi(server, indicator, deadline):
    """The city's daily KPI entity (keyValues), once the application has published it."""
    path = "/ngsi-ld/v1/entities/%s?options=keyValues" % urllib.parse.quote(KPI % indicator, safe=":")
    r = None
    while time.monotonic() < deadline:
        r = server.request("GET", path, {"Link": KPI_LINK})
        if r.status == 200:
            return r.json()
        time.sleep(0.05)
    return None


def main():
    args = test_arguments(__doc__).parse_args()
    t = Checker("air KPIs (Beijing Dongsi, 30 days moved to the days before today)")
    path = os.path.join(args.fixtures, "beijing-air", "PRSA_Data_Dongsi_20130301-20170228.csv")
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames
        rows = [r for r in reader if (int(r["year"]), int(r["month"])) == (SOURCE_YEAR, SOURCE_MONTH)
                and int(r["day"]) <= DAYS]

    # The window the server will use is [today - 30, today) in Beijing time. Should the local day turn
    # between here and the server's first publication, the KPI's own calculation period tells; the test
    # then compares against that window (the data just sits one day earlier in it).
    today = datetime.datetime.now(BEIJING).date()
    first = today - datetime.timedelta(days=DAYS)
    moved, days = [], {}
    for r in rows:
        date = first + datetime.timedelta(days=int(r["day"]) - 1)
        copy = dict(r, year=str(date.year), month=str(date.month), day=str(date.day))
        moved.append(copy)
        hours = days.setdefault(date, {p: [None] * 24 for p in COLUMNS.values()})
        for col, p in COLUMNS.items():
            if r[col] != "NA":
                hours[p][int(r["hour"])] = float(r[col])

    server = Server(args.binary, keep=args.keep, extra_args=["--applications", "air"])
    try:
        import_station_rows(t, server, header, moved)
        server.start()

        t.step("goodAirDaysShare against the CSV")
        share = kpi(server, "goodAirDaysShare", time.monotonic() + 30)
        t.expect(share is not None, "the city's goodAirDaysShare is published", KPI % "goodAirDaysShare", share)
        if share is None:
            return t.finish()
        period = share.get("calculationPeriod", {})
        to = datetime.datetime.fromisoformat(period.get("to", "").replace("Z", "+00:00")).astimezone(BEIJING)
        window_end = to.date()
        window = [window_end - datetime.timedelta(days=DAYS - i) for i in range(DAYS)]
        t.expect(window_end in (today, today + datetime.timedelta(days=1)), "the window ends today (Beijing time)",
                 today.isoformat(), period)
        aqis = {d: expected_day(days[d], TABLES_2012)["aqi"] for d in window if d in days}
        rated = [a for a in aqis.values() if a is not None]
        good = sum(1 for a in rated if a <= 100)
        t.expect(len(rated) >= 20 and 0 < good < len(rated), "the month has good and bad days to tell apart",
                 "both", (good, len(rated)))
        want = 100.0 * good / len(rated)
        t.expect(abs(share.get("kpiValue", -1) - want) <= 0.05 + 1e-9, "goodAirDaysShare", round(want, 1),
                 share.get("kpiValue"))
        t.expect_equal(share.get("area"), "city", "the city's figure")

        t.step("yesterday's mean daily AQI")
        mean = kpi(server, "meanAqi", time.monotonic() + 10)
        yesterday = window_end - datetime.timedelta(days=1)
        want_mean = aqis.get(yesterday)
        if want_mean is None:
            t.expect(mean is None or mean.get("calculationFrequency") != "daily",
                     "no daily mean without a daily AQI yesterday", None, mean)
        else:
            t.expect(mean is not None and abs(mean.get("kpiValue", -1) - want_mean) <= 0.05 + 1e-9,
                     "meanAqi (daily) is yesterday's AQI", want_mean, mean)
    finally:
        stop_and_check(t, server)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
