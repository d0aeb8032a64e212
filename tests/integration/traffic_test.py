#!/usr/bin/env python3
"""The transport application over the API (docs/traffic.md), on a crafted sensor in tenant "traffic":

- a speed in mph (unitCode HM) against a configured free-flow speed of 100 km/h: 31.0686 mph is
  50 km/h, so congestionIndex 5.0 and congestionLevel lightCongestion are written on the sensor;
- a speed with a unitCode the application cannot convert changes nothing and is counted on /metrics;
- on a second sensor, three days of 5-minute readings (Monday and Tuesday at 100 km/h teach the usual speed; Wednesday
  14:00-15:00 Beijing time at 20 km/h): one trafficJam Alert is raised and then cleared on recovery.

    python3 traffic_test.py --binary build/release/citytwin
"""

import datetime
import os
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, stop_and_check, test_arguments  # noqa: E402

TENANT = {"NGSILD-Tenant": "traffic"}
JSON = dict(TENANT, **{"Content-Type": "application/json"})
SENSOR = "urn:ngsi-ld:TrafficFlowObserved:crafted-1"
JAMMED = "urn:ngsi-ld:TrafficFlowObserved:crafted-2"  # its readings start in the past: a sensor of its own
ALERT_LINK = ('<https://raw.githubusercontent.com/smart-data-models/dataModel.Alert/master/context.jsonld>; '
              'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"')


def poll(predicate, seconds=20):
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def speed(value, unit, at=None):
    p = {"type": "Property", "value": value, "unitCode": unit}
    if at:
        p["observedAt"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return p


def sensor(server):
    r = server.request("GET", "/ngsi-ld/v1/entities/" + SENSOR + "?options=keyValues", TENANT)
    return r.json() if r.status == 200 else {}


def metric(server, name):
    for line in server.request("GET", "/metrics").text().splitlines():
        if line.startswith(name):
            return float(line.split()[-1])
    return None


def jam_alerts(server):
    r = server.request("GET", "/ngsi-ld/v1/entities?type=Alert&options=keyValues", dict(TENANT, Link=ALERT_LINK))
    return [a for a in r.json() if a.get("subCategory") == "trafficJam"] if r.status == 200 else []


def run(t, server):
    t.step("a reading in mph against a configured free-flow speed of 100 km/h")
    r = server.request("PATCH", "/admin/v1/city", JSON, json_body={"freeFlowSpeedKmh": 100})
    t.expect(r.status in (200, 204), "configure the free-flow speed", "200 or 204", r)
    r = server.request("POST", "/ngsi-ld/v1/entities", JSON, json_body={
        "id": SENSOR, "type": "TrafficFlowObserved", "averageVehicleSpeed": speed(31.0686, "HM"),
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [116.4, 39.9]}}})
    t.expect_status(r, 201, "create the sensor")
    got = poll(lambda: sensor(server) if "congestionIndex" in sensor(server) else None) or sensor(server)
    t.expect_equal(got.get("congestionIndex"), 5.0, "50 km/h of 100: index 5")
    t.expect_equal(got.get("congestionLevel"), "lightCongestion", "its level")

    t.step("a speed in an unknown unit is left out and counted")
    skipped = 'citytwin_traffic_readings_skipped_total{cause="unknown_unit"}'
    before = metric(server, skipped) or 0
    r = server.request("PATCH", "/ngsi-ld/v1/entities/%s/attrs" % SENSOR, JSON,
                       json_body={"averageVehicleSpeed": speed(10, "XYZ")})
    t.expect_status(r, 204, "write the speed")
    t.expect(poll(lambda: (metric(server, skipped) or 0) > before), "counted on /metrics", "> %s" % before,
             metric(server, skipped))
    t.expect_equal(sensor(server).get("congestionIndex"), 5.0, "the index did not change")

    t.step("back to learned free-flow speeds; three days of readings with an incident on Wednesday")
    r = server.request("PUT", "/admin/v1/city", JSON, json_body={})
    t.expect(r.status in (200, 204), "reset the city settings", "200 or 204", r)
    # A Monday, 00:00 Beijing time (UTC+8), a few weeks back.
    day = datetime.datetime(2026, 11, 2, tzinfo=datetime.timezone.utc) - datetime.timedelta(hours=8)
    assert (day + datetime.timedelta(hours=8)).weekday() == 0
    begin = day + datetime.timedelta(days=2, hours=14)
    end = begin + datetime.timedelta(hours=1)
    r = server.request("POST", "/ngsi-ld/v1/entities", JSON, json_body={
        "id": JAMMED, "type": "TrafficFlowObserved", "averageVehicleSpeed": speed(100.0, "KMH", day)})
    t.expect_status(r, 201, "create a second sensor")
    at = day + datetime.timedelta(minutes=5)
    while at < day + datetime.timedelta(days=3):
        kmh = 20.0 if begin <= at < end else 100.0
        r = server.request("PATCH", "/ngsi-ld/v1/entities/%s/attrs" % JAMMED, JSON,
                           json_body={"averageVehicleSpeed": speed(kmh, "KMH", at)})
        if r.status != 204:
            t.expect_status(r, 204, "a reading at %s" % at)
            break
        at += datetime.timedelta(minutes=5)
    alerts = poll(lambda: (lambda a: a if a and all(x.get("status") == "cleared" for x in a) else None)(
        jam_alerts(server))) or jam_alerts(server)
    t.expect_equal(len(alerts), 1, "one trafficJam alert")
    if alerts:
        a = alerts[0]
        t.expect_equal(a.get("category"), "traffic", "its category")
        t.expect_equal(a.get("alertSource"), JAMMED, "its source")
        t.expect_equal(a.get("validFrom"), begin.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "it began with the drop")
        t.expect_equal(a.get("status"), "cleared", "cleared on recovery")
        t.expect_equal(a.get("validTo"), (end + datetime.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                       "cleared after ten minutes back at speed")


def main():
    args = test_arguments(__doc__.split("\n\n")[0]).parse_args()
    t = Checker("traffic_test")
    server = Server(args.binary, keep=args.keep, extra_args=["--applications", "air,traffic"])
    try:
        server.start()
        run(t, server)
    finally:
        stop_and_check(t, server)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
