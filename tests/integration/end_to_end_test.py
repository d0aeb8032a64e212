#!/usr/bin/env python3
"""The whole chain a city runs on, end to end, with real parts: an air-quality station provisioned
through the IoT Agent API publishes UltraLight over a real mosquitto broker; its entity in the twin
updates; a rule raises one Alert entity while PM2.5 is heavy, and clears it when it falls; the alert
reaches an HTTP subscriber (as a console would be told); the readings are in the temporal API with
their observation times.

    python3 end_to_end_test.py --binary build/release/citytwin
"""

import json
import os
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, stop_and_check, test_arguments  # noqa: E402
from testkit import Broker, Receiver, publish, wait_until  # noqa: E402

JSON = {"Content-Type": "application/json"}
ALERT_LINK = {"Link": '<https://raw.githubusercontent.com/smart-data-models/dataModel.Alert/master/context.jsonld>; '
                      'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'}
STATION = "urn:ngsi-ld:AirQualityObserved:dongsi"
READINGS = [  # (observedAt, PM2.5): heavy (>150) at 03:00 and 04:00, clean again at 05:00
    ("2017-02-01T01:00:00Z", 40), ("2017-02-01T02:00:00Z", 90), ("2017-02-01T03:00:00Z", 180),
    ("2017-02-01T04:00:00Z", 210), ("2017-02-01T05:00:00Z", 60)]


def get(server, path, headers=None):
    r = server.request("GET", path, headers)
    return r.json() if r.status == 200 else None


def alerts(server):
    return get(server, "/ngsi-ld/v1/entities?type=Alert&options=keyValues", ALERT_LINK) or []


def run(t, server, broker, receiver):
    t.step("provision a service group and the Dongsi station (IoT Agent API)")
    r = server.request("POST", "/iot/services", JSON, json.dumps({"services": [
        {"apikey": "air", "entity_type": "AirQualityObserved", "resource": "/iot/d"}]}))
    t.expect_status(r, 201, "service group")
    r = server.request("POST", "/iot/devices", JSON, json.dumps({"devices": [{
        "device_id": "dongsi", "entity_name": STATION, "entity_type": "AirQualityObserved",
        "attributes": [{"object_id": "p", "name": "pm25", "type": "Number"}],
        "static_attributes": [{"name": "location", "type": "geo:json",
                               "value": {"type": "Point", "coordinates": [116.417, 39.929]}}]}]}))
    t.expect_status(r, 201, "device")

    t.step("a rule for heavy pollution, and a subscription to alerts (the console's feed)")
    r = server.request("POST", "/admin/v1/rules", JSON, json.dumps({
        "id": "pm25-heavy", "watch": {"type": "AirQualityObserved"}, "when": "pm25>150", "clearWhen": "pm25<115",
        "severity": "high", "actions": [{"alert": {"category": "environment", "subCategory": "airPollution"}}]}))
    t.expect_status(r, 201, "rule")
    r = server.request("POST", "/ngsi-ld/v1/subscriptions", dict(JSON, **ALERT_LINK), json.dumps({
        "type": "Subscription", "entities": [{"type": "Alert"}],
        "notification": {"format": "keyValues", "endpoint": {"uri": receiver.url("/")}}}))
    t.expect_status(r, 201, "subscription to alerts")

    t.step("the station publishes five hourly readings over MQTT (UltraLight, with TimeInstant)")
    for at, pm25 in READINGS:
        publish(broker, "/air/dongsi/attrs", "TimeInstant|%s|p|%d" % (at, pm25))
        expected = (at, pm25)
        seen = wait_until(lambda: (lambda e: e and (e.get("pm25", {}).get("observedAt"), e.get("pm25", {}).get("value")))(
            get(server, "/ngsi-ld/v1/entities/" + STATION)) == (at.replace("Z", ".000Z"), pm25))
        t.expect(seen, "the twin shows %s = %d" % expected, expected,
                 get(server, "/ngsi-ld/v1/entities/" + STATION + "?options=keyValues"))
        time.sleep(0.2)  # let the rule see each reading on its own

    t.step("one alert for the heavy episode, cleared when PM2.5 fell")
    cleared = wait_until(lambda: [a for a in alerts(server) if a.get("status") == "cleared"])
    got = alerts(server)
    t.expect_equal(len(got), 1, "one alert, not one per heavy reading")
    if got:
        alert = got[0]
        t.expect_equal([alert.get("category"), alert.get("subCategory"), alert.get("severity"), alert.get("alertSource")],
                       ["environment", "airPollution", "high", STATION], "what the alert says")
        t.expect(cleared, "the alert is cleared", "status cleared", alert.get("status"))
        t.expect("validTo" in alert, "a cleared alert has validTo", "validTo", alert)

    t.step("the subscriber heard of the alert")
    heard = wait_until(lambda: [e for n in receiver.notifications() for e in n["body"].get("data", [])
                                if e.get("alertSource") == STATION])
    t.expect(heard, "a notification carried the alert", "an Alert", receiver.notifications())

    t.step("the history has every reading at its observation time")
    query = urllib.parse.urlencode({"attrs": "pm25", "options": "temporalValues", "timerel": "between",
                                    "timeAt": "2017-02-01T00:00:00Z", "endTimeAt": "2017-02-02T00:00:00Z"})
    history = get(server, "/ngsi-ld/v1/temporal/entities/%s?%s" % (STATION, query))
    values = history and history.get("pm25", {}).get("values")
    t.expect_equal(values, [[pm25, at.replace("Z", ".000Z")] for at, pm25 in READINGS], "pm25 history")
    query = urllib.parse.urlencode({"attrs": "pm25", "options": "aggregatedValues", "aggrMethods": "max,avg",
                                    "aggrPeriodDuration": "P1D", "timerel": "between",
                                    "timeAt": "2017-02-01T00:00:00Z", "endTimeAt": "2017-02-02T00:00:00Z"})
    aggregated = get(server, "/ngsi-ld/v1/temporal/entities/%s?%s" % (STATION, query))
    pm25 = (aggregated or {}).get("pm25", {})
    t.expect_equal([pm25.get("max", [[None]])[0][0], pm25.get("avg", [[None]])[0][0]],
                   [210, sum(v for _, v in READINGS) / len(READINGS)], "daily max and mean")


def main():
    args = test_arguments(__doc__.split("\n\n")[0]).parse_args()
    t = Checker("end_to_end_test")
    broker = Broker().start()
    receiver = Receiver().start()
    server = Server(args.binary, keep=args.keep, extra_args=["--mqtt", "mqtt://127.0.0.1:%d" % broker.port])
    try:
        server.start()
        run(t, server, broker, receiver)
    finally:
        stop_and_check(t, server)
        receiver.stop()
        broker.cleanup()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
