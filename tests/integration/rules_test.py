#!/usr/bin/env python3
"""Rules, alerts, incidents and dispatch end to end over the real server:

- /admin/v1/rules: create, 409 on a taken id, get (with status), list, PATCH, disable/enable, delete; bad
  definitions are 400 problems naming the fault;
- each condition kind (avg, max, delta, count silence, a plain q term with `for`) and each action kind
  (alert, update, command, incident, notify to a real HTTP receiver), a failing action marks its rule;
- alerts: one per rule and entity while the condition holds, cleared (validTo, status) when it stops;
- a restart in the middle of a window (no history source is wired yet: the raised alert survives, is not
  duplicated, and the window starts empty);
- an incident's lifecycle (409 on an illegal step, timeline, response times) with the nearest ambulance
  dispatched by great-circle distance, then by travel time over tests/fixtures/roads/tiny_city.geojson,
  and two incidents dispatched together with the smallest total distance.

    python3 rules_test.py --binary build/release/citytwin
"""

import json
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, free_port, test_arguments  # noqa: E402
from testkit import Receiver  # noqa: E402

JSON = {"Content-Type": "application/json"}
ALERT_CONTEXT = "https://raw.githubusercontent.com/smart-data-models/dataModel.Alert/master/context.jsonld"
ALERT_LINK = {"Link": '<%s>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"' % ALERT_CONTEXT}
WAIT = 8.0


def wait_until(fn, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(0.05)


def rules_counters(server):
    out = {}
    for line in server.request("GET", "/metrics").text().splitlines():
        if line.startswith("citytwin_rules_changes_"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def rules_caught_up(server, timeout=WAIT):
    """Waits until the rules engine has evaluated every change queued for it when called (the change
    stream's counters in /metrics): what did not happen by then does not happen for those changes."""
    queued = rules_counters(server).get("citytwin_rules_changes_queued_total", 0)
    return wait_until(lambda: rules_counters(server).get("citytwin_rules_changes_processed_total", -1) >= queued, timeout)


def create(server, entity):
    return server.request("POST", "/ngsi-ld/v1/entities", JSON, json_body=entity)


def patch(server, entity_id, attrs):
    return server.request("PATCH", "/ngsi-ld/v1/entities/%s/attrs" % entity_id, JSON, json_body=attrs)


def keyvalues(server, entity_id, headers=None):
    r = server.request("GET", "/ngsi-ld/v1/entities/%s?options=keyValues" % entity_id, headers)
    return r.json() if r.status == 200 else None


def alerts(server, rule_id):
    r = server.request("GET", "/ngsi-ld/v1/entities?type=Alert&options=keyValues&limit=100", ALERT_LINK)
    return [a for a in r.json() if a.get("rule") == rule_id] if r.status == 200 else []


def rule(server, definition):
    return server.request("POST", "/admin/v1/rules", JSON, json_body=definition)


def point(lon, lat):
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}


def check_definitions(t, server):
    t.step("bad rule definitions are 400 problems naming the fault")
    good = {"id": "r1", "watch": {"type": "AirQualityObserved"}, "when": "avg(pm25,PT1H) > 75",
            "actions": [{"alert": {"category": "environment"}}]}
    for change, fault in [({"when": "avg(pm25,PT1H) >"}, "number"), ({"when": "median(pm25,PT1H) > 3"}, "unknown function"),
                          ({"when": "avg(pm25,1 hour) > 3"}, "ISO 8601"), ({"when": "pm25 >>> 3"}, "when"),
                          ({"actions": [{"teleport": {}}]}, "unknown action"),
                          ({"actions": [{"update": {"entity": "urn:ngsi-ld:X:missing", "attributes": {"on": {"type": "Property", "value": 1}}}}]}, "does not exist"),
                          ({"watch": {}}, "watch.type"), ({"for": "soon"}, "for"), ({"severity": "apocalyptic"}, "severity")]:
        body = dict(good, **change)
        r = rule(server, body)
        t.expect_problem(r, 400, "https://uri.etsi.org/ngsi-ld/errors/BadRequestData", "rule with %s" % json.dumps(change))
        t.expect(fault in r.json().get("detail", ""), "the problem names the fault (%s)" % fault, fault, r.json().get("detail"))

    t.step("create, 409, get, list, patch, disable, enable, delete")
    t.expect_status(rule(server, good), 201, "create")
    t.expect_status(rule(server, good), 409, "same id again")
    r = server.request("GET", "/admin/v1/rules/r1")
    t.expect_status(r, 200, "get")
    t.expect_equal(r.json().get("when"), "avg(pm25,PT1H) > 75", "definition as given")
    t.expect_equal(r.json().get("status", {}).get("state"), "ok", "status")
    r = server.request("GET", "/admin/v1/rules")
    t.expect_equal([x["id"] for x in r.json()], ["r1"], "list")
    t.expect_status(server.request("PATCH", "/admin/v1/rules/r1", JSON, json_body={"when": "max(pm25,PT10M) >= 2.5"}), 204, "patch")
    t.expect_equal(server.request("GET", "/admin/v1/rules/r1").json().get("when"), "max(pm25,PT10M) >= 2.5", "patched")
    t.expect_problem(server.request("PATCH", "/admin/v1/rules/r1", JSON, json_body={"when": "avg(pm25) > 1"}), 400,
                     "https://uri.etsi.org/ngsi-ld/errors/BadRequestData", "bad patch")
    t.expect_status(server.request("POST", "/admin/v1/rules/r1/disable"), 204, "disable")
    t.expect_equal(server.request("GET", "/admin/v1/rules/r1").json().get("enabled"), False, "disabled")
    t.expect_status(server.request("POST", "/admin/v1/rules/r1/enable"), 204, "enable")
    t.expect_status(server.request("DELETE", "/admin/v1/rules/r1"), 204, "delete")
    t.expect_status(server.request("GET", "/admin/v1/rules/r1"), 404, "gone")
    t.expect_status(server.request("GET", "/admin/v1/rules/r1", {"NGSILD-Tenant": "other"}), 404, "tenants apart")


def check_alerts(t, server, receiver):
    t.step("avg over a window raises one alert, de-duplicated, cleared when the average drops")
    sub = server.request("POST", "/ngsi-ld/v1/subscriptions", dict(JSON, **ALERT_LINK), json_body={
        "type": "Subscription", "entities": [{"type": "Alert"}], "notificationTrigger": ["entityCreated"],
        "notification": {"format": "keyValues", "endpoint": {"uri": receiver.url("/alerts")}}})
    t.expect_status(sub, 201, "a subscription to alerts")
    create(server, {"id": "urn:ngsi-ld:AirQualityObserved:dongsi", "type": "AirQualityObserved",
                    "pm25": {"type": "Property", "value": 10}, "location": point(116.4, 39.9)})
    t.expect_status(rule(server, {"id": "pm25-sustained", "watch": {"type": "AirQualityObserved"},
                                  "when": "avg(pm25,PT1H) > 75", "severity": "high",
                                  "actions": [{"alert": {"category": "environment", "subCategory": "airPollution"}}]}), 201, "rule")
    for v in (200, 150):
        patch(server, "urn:ngsi-ld:AirQualityObserved:dongsi", {"pm25": {"type": "Property", "value": v}})
    got = wait_until(lambda: alerts(server, "pm25-sustained"))
    t.expect_equal(len(got), 1, "one alert")
    if got:
        a = got[0]
        t.expect_equal((a.get("category"), a.get("subCategory"), a.get("severity"), a.get("alertSource"), a.get("status")),
                       ("environment", "airPollution", "high", "urn:ngsi-ld:AirQualityObserved:dongsi", "active"), "alert members")
        t.expect("dateIssued" in a and "validFrom" in a and "validTo" not in a and "location" in a, "alert dates and location", actual=a)
    for v in (300, 250):
        patch(server, "urn:ngsi-ld:AirQualityObserved:dongsi", {"pm25": {"type": "Property", "value": v}})
    t.expect(rules_caught_up(server), "the rules engine evaluated the changes")
    t.expect_equal(len(alerts(server, "pm25-sustained")), 1, "still one alert while it holds")
    for _ in range(10):
        patch(server, "urn:ngsi-ld:AirQualityObserved:dongsi", {"pm25": {"type": "Property", "value": 0}})
    cleared = wait_until(lambda: [a for a in alerts(server, "pm25-sustained") if a.get("status") == "cleared"])
    t.expect(len(cleared) == 1 and "validTo" in cleared[0], "the alert is cleared with validTo", actual=cleared)
    status = server.request("GET", "/admin/v1/rules/pm25-sustained").json()["status"]
    t.expect_equal((status["fired"], status["cleared"]), (1, 1), "fired once, cleared once")
    notified = wait_until(lambda: [n for n in receiver.notifications() if n["path"] == "/alerts"])
    t.expect(len(notified) == 1 and notified[0]["body"]["data"][0].get("rule") == "pm25-sustained",
             "the subscription was notified of the alert like of any entity", actual=notified)


def check_actions(t, server, receiver):
    t.step("max → update an entity; delta → device command; silence → incident; q with for → notify")
    create(server, {"id": "urn:ngsi-ld:Bridge:b1", "type": "Bridge", "tilt": {"type": "Property", "value": 0.1}})
    create(server, {"id": "urn:ngsi-ld:Barrier:b1", "type": "Barrier", "state": {"type": "Property", "value": "open"}})
    t.expect_status(rule(server, {"id": "tilt", "watch": {"type": "Bridge"}, "when": "max(tilt,PT10M) >= 2.5",
                                  "actions": [{"update": {"entity": "urn:ngsi-ld:Barrier:b1",
                                                          "attributes": {"state": {"type": "Property", "value": "closed"}}}}]}),
                    201, "update rule")
    patch(server, "urn:ngsi-ld:Bridge:b1", {"tilt": {"type": "Property", "value": 3.0}})
    t.expect(wait_until(lambda: (keyvalues(server, "urn:ngsi-ld:Barrier:b1") or {}).get("state") == "closed"),
             "the barrier was closed")

    create(server, {"id": "urn:ngsi-ld:TrafficFlowObserved:t1", "type": "TrafficFlowObserved", "speed": {"type": "Property", "value": 80}})
    create(server, {"id": "urn:ngsi-ld:Device:sign1", "type": "Device"})
    t.expect_status(rule(server, {"id": "jam", "watch": {"type": "TrafficFlowObserved"}, "when": "delta(speed,PT15M) < -30",
                                  "actions": [{"command": {"device": "urn:ngsi-ld:Device:sign1", "command": "display",
                                                           "value": "congestion ahead"}}]}), 201, "command rule")
    patch(server, "urn:ngsi-ld:TrafficFlowObserved:t1", {"speed": {"type": "Property", "value": 75}})
    t.expect(rules_caught_up(server), "the rules engine evaluated the change")
    t.expect("display" not in (keyvalues(server, "urn:ngsi-ld:Device:sign1") or {}), "no command for a small drop")
    patch(server, "urn:ngsi-ld:TrafficFlowObserved:t1", {"speed": {"type": "Property", "value": 20}})
    t.expect(wait_until(lambda: (keyvalues(server, "urn:ngsi-ld:Device:sign1") or {}).get("display") == "congestion ahead"),
             "the device got its command attribute")

    create(server, {"id": "urn:ngsi-ld:WaterMeter:m1", "type": "WaterMeter", "flow": {"type": "Property", "value": 1}})
    t.expect_status(rule(server, {"id": "silent", "watch": {"type": "WaterMeter"}, "when": "count(PT2S) == 0",
                                  "actions": [{"incident": {"category": "maintenance", "description": "meter silent"}},
                                              {"alert": {"category": "maintenance"}}]}), 201, "silence rule")
    for _ in range(3):
        patch(server, "urn:ngsi-ld:WaterMeter:m1", {"flow": {"type": "Property", "value": 2}})
        time.sleep(0.5)
    t.expect_equal(alerts(server, "silent"), [], "no silence alert while it sends")

    def incidents():
        r = server.request("GET", "/ngsi-ld/v1/entities?type=Incident&options=keyValues&limit=100")
        return [i for i in r.json() if i.get("concerns") == "urn:ngsi-ld:WaterMeter:m1"]
    got = wait_until(incidents, 6)
    t.expect(len(got) == 1 and got[0].get("status") == "open" and got[0].get("description") == "meter silent",
             "an incident opened after 2 s of silence", actual=got)
    silent_alerts = alerts(server, "silent")
    t.expect_equal(len(silent_alerts), 1, "and one alert")
    if got and silent_alerts:
        t.expect_equal(got[0].get("alert"), silent_alerts[0]["id"], "the incident names the alert that opened it")

    t.expect_status(rule(server, {"id": "hot", "watch": {"type": "Room"}, "when": "temperature>30", "for": "PT1S",
                                  "actions": [{"notify": {"uri": receiver.url("/rules")}}]}), 201, "notify rule")
    started = time.time()
    create(server, {"id": "urn:ngsi-ld:Room:r1", "type": "Room", "temperature": {"type": "Property", "value": 35}})
    got = wait_until(lambda: [r for r in receiver.notifications() if r["path"] == "/rules"])
    t.expect(len(got) == 1 and got[0]["body"].get("rule") == "hot" and got[0]["body"].get("state") == "firing"
             and got[0]["body"].get("entity") == "urn:ngsi-ld:Room:r1", "the receiver was notified", actual=got)
    if got:
        t.expect(got[0]["at"] - started >= 0.9, "not before the `for` duration", ">= 1 s", got[0]["at"] - started)
    patch(server, "urn:ngsi-ld:Room:r1", {"temperature": {"type": "Property", "value": 20}})
    got = wait_until(lambda: [r for r in receiver.notifications() if r["path"] == "/rules" and r["body"].get("state") == "cleared"])
    t.expect(len(got) == 1, "and told when it cleared", actual=got)

    t.step("a rule whose action keeps failing is marked so, and others still run")
    t.expect_status(rule(server, {"id": "broken", "watch": {"type": "Room"}, "when": "temperature>10",
                                  "actions": [{"notify": {"uri": "http://127.0.0.1:%d/nobody" % free_port()}}]}), 201, "broken rule")
    patch(server, "urn:ngsi-ld:Room:r1", {"temperature": {"type": "Property", "value": 12}})
    status = wait_until(lambda: server.request("GET", "/admin/v1/rules/broken").json()["status"].get("failing") and
                        server.request("GET", "/admin/v1/rules/broken").json()["status"])
    t.expect(status and status.get("state") == "failing" and "notify" in status.get("lastError", ""),
             "GET shows the rule failing", actual=status)
    create(server, {"id": "urn:ngsi-ld:Valve:v1", "type": "Valve", "state": {"type": "Property", "value": "open"}})
    t.expect_status(rule(server, {"id": "lost-target", "watch": {"type": "Room"}, "when": "temperature>40",
                                  "actions": [{"update": {"entity": "urn:ngsi-ld:Valve:v1",
                                                          "attributes": {"state": {"type": "Property", "value": "closed"}}}}]}),
                    201, "rule updating a valve")
    server.request("DELETE", "/ngsi-ld/v1/entities/urn:ngsi-ld:Valve:v1")
    patch(server, "urn:ngsi-ld:Room:r1", {"temperature": {"type": "Property", "value": 45}})
    status = wait_until(lambda: server.request("GET", "/admin/v1/rules/lost-target").json()["status"].get("failing") and
                        server.request("GET", "/admin/v1/rules/lost-target").json()["status"])
    t.expect(status and "update" in status.get("lastError", "") and status.get("actionFailures", 0) >= 2,
             "an update whose target is gone is retried, then the rule shows failing", actual=status)
    patch(server, "urn:ngsi-ld:Bridge:b1", {"tilt": {"type": "Property", "value": 0.0}})
    patch(server, "urn:ngsi-ld:Barrier:b1", {"state": {"type": "Property", "value": "open"}})
    t.expect_status(server.request("PATCH", "/admin/v1/rules/tilt", JSON, json_body={"description": "re-armed"}), 204, "re-arm")
    patch(server, "urn:ngsi-ld:Bridge:b1", {"tilt": {"type": "Property", "value": 4.0}})
    t.expect(wait_until(lambda: (keyvalues(server, "urn:ngsi-ld:Barrier:b1") or {}).get("state") == "closed", 3),
             "another rule still acts promptly")


def check_more_conditions(t, server):
    t.step("min, sum, zscore, count(attr), idPattern and geoQ watches, each end to end")
    cases = [  # type, when, values that must not fire, the value that makes it fire, watch extras
        ("GaugeMin", "min(x,PT1H) < 10", [20, 15], [5], {"idPattern": ".*"}),
        ("GaugeSum", "sum(x,PT1H) >= 100", [30, 30], [50], {}),
        ("GaugeZ", "zscore(x,PT1H) > 3", [10, 11, 10, 11, 10], [40], {}),
        ("GaugeCount", "count(x,PT1M) >= 3", [1, 1], [1], {}),
    ]
    for n, (type_name, when, quiet, firing, extra) in enumerate(cases):
        rule_id = "more-%d" % n
        entity = "urn:ngsi-ld:%s:g" % type_name
        create(server, {"id": entity, "type": type_name})
        t.expect_status(rule(server, {"id": rule_id, "watch": dict({"type": type_name}, **extra), "when": when,
                                      "actions": [{"alert": {"category": "test"}}]}), 201, when)
        for v in quiet:  # append: the entity was created without x
            server.request("POST", "/ngsi-ld/v1/entities/%s/attrs" % entity, JSON, json_body={"x": {"type": "Property", "value": v}})
        t.expect(rules_caught_up(server), "%s: the changes evaluated" % when)
        t.expect_equal(alerts(server, rule_id), [], "%s: not yet" % when)
        for v in firing:
            server.request("POST", "/ngsi-ld/v1/entities/%s/attrs" % entity, JSON, json_body={"x": {"type": "Property", "value": v}})
        t.expect(wait_until(lambda: alerts(server, rule_id)), "%s: fires" % when)

    t.expect_status(rule(server, {"id": "area", "watch": {"type": "Bin", "idPattern": "^urn:ngsi-ld:Bin:centre-",
                                                          "geoQ": {"geometry": "Point", "coordinates": [2.35, 48.85],
                                                                   "georel": "near;maxDistance==1000"}},
                                  "when": "fill>=90", "actions": [{"alert": {"category": "waste"}}]}), 201, "area rule")
    for name, lon in (("centre-1", 2.351), ("centre-far", 2.5), ("suburb-1", 2.351)):
        create(server, {"id": "urn:ngsi-ld:Bin:" + name, "type": "Bin", "fill": {"type": "Property", "value": 95},
                        "location": point(lon, 48.85)})
    got = wait_until(lambda: alerts(server, "area"))
    t.expect(rules_caught_up(server), "every bin's change evaluated")
    t.expect_equal([a.get("alertSource") for a in alerts(server, "area")], ["urn:ngsi-ld:Bin:centre-1"],
                   "only the bin inside the area and matching the id pattern")


def check_restart(t, server):
    t.step("a restart in the middle of a window: rule and alert survive, no duplicate")
    server.restart()
    r = server.request("GET", "/admin/v1/rules/pm25-sustained")
    t.expect_status(r, 200, "rule after restart")
    t.expect_status(rule(server, {"id": "window", "watch": {"type": "Sensor"}, "when": "avg(level,PT1H) > 5",
                                  "actions": [{"alert": {"category": "infrastructure"}}]}), 201, "rule")
    create(server, {"id": "urn:ngsi-ld:Sensor:s1", "type": "Sensor", "level": {"type": "Property", "value": 9}})
    t.expect(wait_until(lambda: alerts(server, "window")), "alert raised before the restart")
    server.restart(crash=True)
    # The alert was written by the engine, not acknowledged to anyone: kill -9 may take it if it was not
    # yet durable, and then the window (rebuilt from the current value without history) raises it again.
    got = wait_until(lambda: alerts(server, "window"))
    t.expect(len(got) == 1 and got[0].get("status") == "active", "after kill -9 one alert, active", actual=got)
    patch(server, "urn:ngsi-ld:Sensor:s1", {"level": {"type": "Property", "value": 8}})
    t.expect(rules_caught_up(server), "the change after the restart evaluated")
    got = alerts(server, "window")
    t.expect(len(got) == 1 and got[0].get("status") == "active", "no duplicate after the restart", actual=got)
    for _ in range(5):
        patch(server, "urn:ngsi-ld:Sensor:s1", {"level": {"type": "Property", "value": 1}})
    got = wait_until(lambda: [a for a in alerts(server, "window") if a.get("status") == "cleared"])
    # Without a history source the window restarts from the current value (9), then 8, 1, 1, 1, 1, 1.
    t.expect(len(got) == 1, "cleared once the rebuilt window's average drops", actual=got)


def check_incidents(t, server, fixtures):
    t.step("incident lifecycle with the nearest ambulance by distance, then by road travel time")
    units = [("a-west", -0.011, 0.0), ("a-east", 0.015, 0.0005), ("a-far", 0.5, 0.5)]
    for name, lon, lat in units:
        create(server, {"id": "urn:ngsi-ld:ResponseUnit:" + name, "type": "ResponseUnit", "kind": {"type": "Property", "value": "ambulance"},
                        "available": {"type": "Property", "value": True}, "location": point(lon, lat)})
    create(server, {"id": "urn:ngsi-ld:ResponseUnit:fire1", "type": "ResponseUnit", "kind": {"type": "Property", "value": "fireEngine"},
                    "available": {"type": "Property", "value": True}, "location": point(0.0, 0.0)})

    def open_incident(incident_id):
        return server.request("POST", "/admin/v1/incidents", JSON, json_body={
            "id": incident_id, "category": "health", "description": "collapse", "unitKind": "ambulance",
            "location": {"type": "Point", "coordinates": [0.0, 0.0]}, "by": "operator-ann"})
    t.expect_problem(server.request("POST", "/admin/v1/incidents", JSON, json_body={"by": "x"}), 400,
                     "https://uri.etsi.org/ngsi-ld/errors/BadRequestData", "an incident needs a category")
    r = open_incident("urn:ngsi-ld:Incident:i1")
    t.expect_status(r, 201, "open")
    i1 = "/admin/v1/incidents/urn:ngsi-ld:Incident:i1"
    r = server.request("POST", i1 + "/close", JSON, json_body={"by": "ann"})
    t.expect_status(r, 409, "close an open incident: illegal")
    t.expect_status(server.request("POST", i1 + "/dispatch", JSON, json_body={"by": "ann"}), 409, "dispatch before acknowledging")
    t.expect_status(server.request("POST", i1 + "/acknowledge", JSON, json_body={"by": "ann", "note": "on it"}), 200, "acknowledge")
    r = server.request("GET", i1 + "/proposals")
    t.expect_equal([c["unit"] for c in r.json()], ["urn:ngsi-ld:ResponseUnit:a-west", "urn:ngsi-ld:ResponseUnit:a-east",
                                                   "urn:ngsi-ld:ResponseUnit:a-far"], "proposals by distance")
    r = server.request("POST", i1 + "/dispatch", JSON, json_body={"by": "ann"})
    t.expect_status(r, 200, "dispatch")
    t.expect_equal(r.json().get("unit"), "urn:ngsi-ld:ResponseUnit:a-west", "the nearest ambulance by distance")
    t.expect_equal(keyvalues(server, "urn:ngsi-ld:ResponseUnit:a-west").get("available"), False, "the unit is busy")
    t.expect_status(server.request("POST", i1 + "/resolve", JSON, json_body={"by": "crew"}), 200, "resolve")
    t.expect_status(server.request("POST", i1 + "/close", JSON, json_body={"by": "ann"}), 200, "close")
    t.expect_status(server.request("POST", i1 + "/acknowledge", JSON, json_body={"by": "ann"}), 409, "nothing after closed")
    inc = keyvalues(server, "urn:ngsi-ld:Incident:i1")
    t.expect_equal([e["status"] for e in inc.get("timeline", [])], ["open", "acknowledged", "dispatched", "resolved", "closed"], "timeline")
    t.expect_equal([e["by"] for e in inc.get("timeline", [])], ["operator-ann", "ann", "ann", "crew", "ann"], "who")
    t.expect(all(isinstance(inc.get(k), (int, float)) for k in ("timeToAcknowledge", "timeToDispatch", "timeToResolve")),
             "response times", actual=inc)
    t.expect_equal(inc.get("assignedUnit"), "urn:ngsi-ld:ResponseUnit:a-west", "assigned unit")

    patch(server, "urn:ngsi-ld:ResponseUnit:a-west", {"available": {"type": "Property", "value": True}})
    with open(os.path.join(fixtures, "roads", "tiny_city.geojson")) as f:
        r = server.request("PUT", "/admin/v1/roadgraph", JSON, body=f.read())
    t.expect_status(r, 200, "road graph loaded")
    t.expect_problem(server.request("PUT", "/admin/v1/roadgraph", JSON, json_body={"type": "FeatureCollection", "features": [{}]}),
                     400, "https://uri.etsi.org/ngsi-ld/errors/BadRequestData", "a bad road graph")
    open_incident("urn:ngsi-ld:Incident:i2")
    i2 = "/admin/v1/incidents/urn:ngsi-ld:Incident:i2"
    server.request("POST", i2 + "/acknowledge", JSON, json_body={"by": "ann"})
    r = server.request("GET", i2 + "/proposals?rankBy=travelTime")
    t.expect_equal([c["unit"] for c in r.json()][:2], ["urn:ngsi-ld:ResponseUnit:a-east", "urn:ngsi-ld:ResponseUnit:a-west"],
                   "by travel time the east unit (ring road) beats the west one (slow lane)")
    r = server.request("POST", i2 + "/dispatch", JSON, json_body={"by": "ann", "rankBy": "travelTime"})
    t.expect_equal(r.json().get("unit"), "urn:ngsi-ld:ResponseUnit:a-east", "dispatched by road travel time")
    t.expect("travelTime" in r.json(), "with its travel time", actual=r.json())

    t.step("two incidents at once: the smallest total distance")
    patch(server, "urn:ngsi-ld:ResponseUnit:a-east", {"available": {"type": "Property", "value": True}})
    server.request("DELETE", "/admin/v1/roadgraph")
    for n, lon in (("i3", -0.012), ("i4", 0.0)):
        server.request("POST", "/admin/v1/incidents", JSON, json_body={
            "id": "urn:ngsi-ld:Incident:" + n, "category": "health", "location": {"type": "Point", "coordinates": [lon, 0.0]}, "by": "ann"})
        server.request("POST", "/admin/v1/incidents/urn:ngsi-ld:Incident:%s/acknowledge" % n, JSON, json_body={"by": "ann"})
    r = server.request("POST", "/admin/v1/incidents/dispatch", JSON, json_body={
        "incidents": ["urn:ngsi-ld:Incident:i4", "urn:ngsi-ld:Incident:i3"], "kind": "ambulance", "by": "ann"})
    t.expect_status(r, 200, "dispatch together")
    got = {x["incident"]: x["unit"] for x in r.json()} if r.status == 200 else {}
    # Greedy for i4 first would send a-west (1.2 km) to i4 and a-east to i3 (3 km); the optimum swaps.
    t.expect_equal(got, {"urn:ngsi-ld:Incident:i3": "urn:ngsi-ld:ResponseUnit:a-west",
                         "urn:ngsi-ld:Incident:i4": "urn:ngsi-ld:ResponseUnit:a-east"}, "min total distance")

    t.step("naming the unit: a busy one is refused, a free one of the right kind is sent")
    server.request("POST", "/admin/v1/incidents", JSON, json_body={
        "id": "urn:ngsi-ld:Incident:i5", "category": "health", "unitKind": "ambulance",
        "location": {"type": "Point", "coordinates": [0.0, 0.0]}, "by": "ann"})
    i5 = "/admin/v1/incidents/urn:ngsi-ld:Incident:i5"
    server.request("POST", i5 + "/acknowledge", JSON, json_body={"by": "ann"})
    t.expect_status(server.request("POST", i5 + "/dispatch", JSON, json_body={"by": "ann", "unit": "urn:ngsi-ld:ResponseUnit:a-west"}),
                    409, "a busy unit")
    t.expect_status(server.request("POST", i5 + "/dispatch", JSON, json_body={"by": "ann", "unit": "urn:ngsi-ld:ResponseUnit:fire1"}),
                    409, "a unit of another kind")
    r = server.request("POST", i5 + "/dispatch", JSON, json_body={"by": "ann", "unit": "urn:ngsi-ld:ResponseUnit:a-far"})
    t.expect_equal((r.status, r.json().get("unit")), (200, "urn:ngsi-ld:ResponseUnit:a-far"), "the named free unit")


def main():
    args = test_arguments(__doc__.splitlines()[0]).parse_args()
    t = Checker("rules_test")
    receiver = Receiver().start()
    try:
        with Server(args.binary, keep=args.keep) as server:
            check_definitions(t, server)
            check_alerts(t, server, receiver)
            check_actions(t, server, receiver)
            check_more_conditions(t, server)
            check_restart(t, server)
            check_incidents(t, server, args.fixtures)
            if t.failures:
                print(server.log_tail())
    finally:
        receiver.stop()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
