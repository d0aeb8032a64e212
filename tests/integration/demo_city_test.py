#!/usr/bin/env python3
"""`citytwin demo` serves the demo city made from real public data (data/demo):

- the 16 Beijing districts, with boundaries a geo-query can use: the Dongsi monitoring station
  (116.417 E, 39.929 N, WGS84) lies in Dongcheng (东城区), the Changping station in Changping;
- the 207 METR-LA road sensors in tenant "los-angeles", each with a speed in km/h and a location;
- starting the demo again on the same data dir changes nothing (the load is an upsert).

    python3 demo_city_test.py --binary build/release/citytwin
"""

import json
import os
import sys
import urllib.parse

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, stop_and_check, test_arguments  # noqa: E402

TRANSPORTATION = "https://raw.githubusercontent.com/smart-data-models/dataModel.Transportation/master/context.jsonld"
LA = {"NGSILD-Tenant": "los-angeles",
      "Link": '<%s>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"' % TRANSPORTATION}


def district_at(server, lon, lat):
    query = urllib.parse.urlencode({"type": "District", "georel": "contains", "geometry": "Point",
                                    "coordinates": json.dumps([lon, lat]), "pick": "name", "options": "keyValues"})
    r = server.request("GET", "/ngsi-ld/v1/entities?" + query)
    return [e["name"] for e in r.json()] if r.status == 200 else r.text()


def count(server, path, headers=None):
    r = server.request("GET", path + ("&" if "?" in path else "?") + "count=true&limit=0", headers)
    return int(r.header("NGSILD-Results-Count", "-1")) if r.status == 200 else r.text()


def run(t, server):
    t.step("16 districts in the default tenant, each with a boundary")
    t.expect_equal(count(server, "/ngsi-ld/v1/entities?type=District"), 16, "District count")
    t.expect_equal(district_at(server, 116.417, 39.929), ["东城区"], "district containing the Dongsi station")
    t.expect_equal(district_at(server, 116.23, 40.217), ["昌平区"], "district containing the Changping station")

    t.step("207 road sensors in tenant los-angeles, with speeds in km/h")
    t.expect_equal(count(server, "/ngsi-ld/v1/entities?type=TrafficFlowObserved", LA), 207, "sensor count")
    r = server.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:TrafficFlowObserved:metr-la-773869", LA)
    if t.expect_status(r, 200, "read one sensor"):
        speed = r.json()["averageVehicleSpeed"]
        # 64.375 mph in the first row of los_speed.csv
        t.expect_equal(speed["value"], 103.6, "its first speed, in km/h")
        t.expect_equal(speed["unitCode"], "KMH", "its unit")
        t.expect_equal(r.json()["location"]["value"]["coordinates"], [-118.31829, 34.15497], "its location")
    slow = count(server, "/ngsi-ld/v1/entities?type=TrafficFlowObserved&q=" +
                 urllib.parse.quote("averageVehicleSpeed<40"), LA)
    t.expect(isinstance(slow, int) and 0 <= slow < 207, "a q query over the speeds answers", "0..206", slow)

    t.step("a second start on the same data dir loads nothing twice")
    server.restart()
    t.expect_equal(count(server, "/ngsi-ld/v1/entities?type=District"), 16, "District count after restart")
    t.expect_equal(count(server, "/ngsi-ld/v1/entities?type=TrafficFlowObserved", LA), 207,
                   "sensor count after restart")


def main():
    args = test_arguments(__doc__.split("\n\n")[0]).parse_args()
    t = Checker("demo_city_test")
    server = Server(args.binary, keep=args.keep, command="demo")
    try:
        server.start()
        run(t, server)
    finally:
        stop_and_check(t, server)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
