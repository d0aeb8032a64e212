#!/usr/bin/env python3
"""The generated part of `citytwin demo` (issue #16), over the API:

- at least 5,000 entities across the utilities, structures, services, emergency and health
  applications, inside the Beijing districts, their sensors updating every few seconds;
- the faults injected at the times `--seed` fixes (a breached service request, an overloaded
  substation, a burst main, a tilting bridge; a nearly full hospital) raise alerts through the
  default rules: alerts of at least three applications are active within the first minute, and of
  each fault within about a minute and a half;
- emergency calls open incidents that the emergency application dispatches to response units;
- KPI entities of each application; bad input (an unknown category, a location outside every
  district, an SLA that does not parse) is named in a problem detail.

    python3 demo_apps_test.py --binary build/release/citytwin
"""

import json
import os
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, stop_and_check, test_arguments  # noqa: E402

SDM = "https://raw.githubusercontent.com/smart-data-models/dataModel.%s/master/context.jsonld"


def link(domain):
    return {"Link": '<%s>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"' % (SDM % domain)}


WATER, ENERGY, BUILDING, ISSUES, ALERT, KPI = (link(d) for d in (
    "WaterDistributionManagementEPANET", "Energy", "Building", "IssueTracking", "Alert", "KeyPerformanceIndicator"))
# Which application's work each default rule watches (data/demo/rules.json).
RULE_APPLICATION = {"water-pressure-drop": "utilities", "water-night-flow-leak": "utilities",
                    "substation-overload": "utilities", "bridge-structural-alarm": "structures",
                    "dam-above-flood-control": "structures", "service-sla-breach": "services",
                    "hospital-beds-full": "health", "slow-emergency-response": "emergency"}
FAULT_RULES = {"service-sla-breach", "substation-overload", "water-pressure-drop", "bridge-structural-alarm"}
FIRST_MINUTE = 60.0


def count(server, query, headers=None):
    r = server.request("GET", "/ngsi-ld/v1/entities?%s&count=true&limit=0" % query, headers)
    return int(r.header("NGSILD-Results-Count", "-1")) if r.status == 200 else -1


def entities(server, query, headers=None):
    r = server.request("GET", "/ngsi-ld/v1/entities?%s&options=keyValues&limit=1000" % query, headers)
    return r.json() if r.status == 200 else []


def active_alerts(server):
    return [a for a in entities(server, "type=Alert", ALERT) if a.get("status") == "active"]


def poll(predicate, deadline, interval=0.5):
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def run(t, server, started):
    t.step("alerts of at least three applications active within the first minute")

    def applications():
        return {RULE_APPLICATION[a["rule"]] for a in active_alerts(server) if a.get("rule") in RULE_APPLICATION}

    apps = poll(lambda: (lambda s: s if len(s) >= 3 else None)(applications()), started + FIRST_MINUTE)
    t.expect(apps is not None, "alerts of >= 3 applications within %d s of the start" % FIRST_MINUTE,
             ">= 3 of %s" % sorted(set(RULE_APPLICATION.values())), sorted(applications()))

    t.step("the generated city: >= 5,000 entities, inside the districts")
    counts = {
        "metering areas (Pipe)": count(server, "type=Pipe", WATER),
        "junctions": count(server, "type=Junction", WATER),
        "substations": count(server, "type=ThreePhaseAcMeasurement", ENERGY),
        "bridges and hospitals (Building)": count(server, "type=Building", BUILDING),
        "reservoirs": count(server, "type=Reservoir", WATER),
        "response units": count(server, "type=ResponseUnit"),
        "service requests": count(server, "type=service_requests", ISSUES),
    }
    t.expect(all(n > 0 for n in counts.values()), "every kind is there", "> 0 each", counts)
    t.expect(sum(counts.values()) >= 5000, "at least 5,000 entities", ">= 5000", counts)
    query = urllib.parse.urlencode({"type": "Junction", "georel": "within", "geometry": "Polygon", "coordinates": json.dumps(
        [[[115.4, 39.4], [117.6, 39.4], [117.6, 41.1], [115.4, 41.1], [115.4, 39.4]]])})
    t.expect_equal(count(server, query, WATER), counts["junctions"], "every junction within Beijing's bounding box")

    t.step("sensors update every few seconds")
    path = "/ngsi-ld/v1/entities/urn:ngsi-ld:Junction:110101-0"
    def pressure():
        r = server.request("GET", path, WATER)
        return r.json().get("pressure", {}).get("observedAt") if r.status == 200 else None
    first = pressure()
    changed = poll(lambda: (lambda p: p if p and p != first else None)(pressure()), time.monotonic() + 12)
    t.expect(changed is not None, "a junction's pressure is renewed within 12 s", "a new observedAt", first)

    t.step("each injected fault raises its alert")
    def rules_firing():
        return {a["rule"] for a in active_alerts(server)} & FAULT_RULES
    fired = poll(lambda: (lambda s: s if s == FAULT_RULES else None)(rules_firing()), started + 90)
    t.expect(fired is not None, "the four faults' alerts within 90 s", sorted(FAULT_RULES), sorted(rules_firing()))
    if fired:
        overloaded = [e for e in entities(server, "type=ThreePhaseAcMeasurement&q=loadStatus==%22overloaded%22", ENERGY)]
        t.expect(len(overloaded) >= 1 and all(e.get("loadRatio", 0) > 1 for e in overloaded),
                 "the overloaded substation's loadRatio is above 1", "> 1", overloaded[:2])
        tilted = entities(server, "type=Building&q=structuralState==%22alarm%22", BUILDING)
        t.expect(any(e.get("structuralCause") == "tilt" for e in tilted), "a bridge in alarm for its tilt", "tilt", tilted[:2])

    t.step("emergency calls become incidents dispatched to response units")
    def dispatched():
        incidents = entities(server, "type=Incident&q=status==%22dispatched%22")
        return [i for i in incidents if i.get("assignedUnit")]
    got = poll(dispatched, time.monotonic() + 60)
    t.expect(bool(got), "a dispatched incident with its unit", "assignedUnit", entities(server, "type=Incident")[:2])
    if got:
        unit = got[0]["assignedUnit"]
        r = server.request("GET", "/ngsi-ld/v1/entities/%s?options=keyValues" % unit)
        t.expect(r.status == 200 and r.json().get("available") is False, "the unit is no longer available", False,
                 r.json() if r.status == 200 else r.status)
    calls = entities(server, "type=EmergencyCall")
    t.expect(any(c.get("refIncident") for c in calls), "calls refer to their incident", "refIncident", calls[:2])

    t.step("KPI entities of each application")
    def kpi_ids():
        return {e["id"] for e in entities(server, "type=KeyPerformanceIndicator", KPI)}
    wanted = ["urn:ngsi-ld:KeyPerformanceIndicator:utilities:leakCount:hourly:city",
              "urn:ngsi-ld:KeyPerformanceIndicator:utilities:peakLoadRatio:hourly:city",
              "urn:ngsi-ld:KeyPerformanceIndicator:structures:structuralAlarms:hourly:city",
              "urn:ngsi-ld:KeyPerformanceIndicator:services:openRequests:daily:city",
              "urn:ngsi-ld:KeyPerformanceIndicator:health:bedOccupancy:hourly:city"]
    ids = poll(lambda: (lambda k: k if all(w in k for w in wanted) else None)(kpi_ids()), time.monotonic() + 30)
    t.expect(ids is not None, "the applications' city-wide KPIs", wanted, sorted(i for i in kpi_ids() if "air" not in i)[:20])

    t.step("bad input is named in a problem detail")
    r = server.request("POST", "/ngsi-ld/v1/entities", dict(ISSUES, **{"Content-Type": "application/json"}), json_body={
        "id": "urn:ngsi-ld:service_requests:test-bad", "type": "service_requests",
        "service_code": {"type": "Property", "value": "dragons"}, "status": {"type": "Property", "value": "open"},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [116.4, 39.9]}}})
    t.expect_status(r, 201, "create a request of an unknown category")

    def problem(entity):
        r = server.request("GET", "/ngsi-ld/v1/entities/%s?options=keyValues" % entity)
        return r.json().get("problemDetail") if r.status == 200 else None
    p = poll(lambda: problem("urn:ngsi-ld:service_requests:test-bad"), time.monotonic() + 10)
    t.expect(p is not None and "dragons" in p.get("detail", ""), "its problem names the category", "dragons", p)
    r = server.request("PATCH", "/admin/v1/city", {"Content-Type": "application/json"},
                       json_body={"serviceCategories": {"roads": {"sla": "soon"}}})
    t.expect(r.status == 400 and "serviceCategories.roads.sla" in r.text(), "a bad SLA is a 400 naming it",
             "400 serviceCategories.roads.sla", (r.status, r.text()))


def main():
    args = test_arguments(__doc__.split("\n\n")[0]).parse_args()
    t = Checker("demo_apps_test")
    server = Server(args.binary, keep=args.keep, command="demo", extra_args=["--seed", "7"])
    try:
        started = time.monotonic()
        server.start()
        run(t, server, started)
    finally:
        stop_and_check(t, server)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
