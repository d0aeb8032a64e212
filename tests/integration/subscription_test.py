#!/usr/bin/env python3
"""Subscriptions end to end, notified to a real HTTP receiver on loopback (http.server in a thread):

- the notification: POST, Content-Type, Link (the subscription's @context), NGSILD-Tenant,
  receiverInfo headers, id/type/subscriptionId/notifiedAt/data; application/ld+json on request;
- formats (normalized, keyValues, concise), notification.attributes, sysAttrs, showChanges;
- every notificationTrigger, watchedAttributes, entities (type, id, idPattern), q, geoQ, scopeQ;
- throttling (held changes merged into one later notification), timeInterval (periodic),
  isActive (pause and resume), expiresAt;
- the status: timesSent, timesFailed, lastNotification/lastSuccess/lastFailure, a refused
  notification (receiver answers 400); batch writes notify too; tenants kept apart;
- after a restart the subscription still notifies.

    python3 subscription_test.py --binary build/release/citytwin

The receiver is testkit.Receiver; the helpers here (subscribe, entity, patch...) are imported by
the other subscription*_test.py scripts.
"""

import os
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, free_port, test_arguments  # noqa: E402
from testkit import WAIT, Receiver  # noqa: E402

CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
ENVIRONMENT = "https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld"


def link(url):
    return '<%s>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"' % url


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

def subscribe(t, server, body, what, headers=None, status=201):
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    body = dict(body)
    body.setdefault("type", "Subscription")
    r = server.request("POST", "/ngsi-ld/v1/subscriptions", h, json_body=body)
    t.expect_status(r, status, "subscribe: " + what)
    return body.get("id")


def write(t, server, method, path, body=None, what="", headers=None, status=(201, 204)):
    h = {"Content-Type": "application/json"} if body is not None else {}
    h.update(headers or {})
    r = server.request(method, path, h, json_body=body)
    t.expect_status(r, status, "%s %s %s" % (what, method, path))
    return r


def entity(t, server, eid, etype, attrs, headers=None):
    body = {"id": eid, "type": etype}
    body.update(attrs)
    write(t, server, "POST", "/ngsi-ld/v1/entities", body, "create", headers)


def patch(t, server, eid, attrs, headers=None):
    write(t, server, "PATCH", "/ngsi-ld/v1/entities/%s" % eid, attrs, "merge", headers)


def prop(value, **extra):
    p = {"type": "Property", "value": value}
    p.update(extra)
    return p


def get_subscription(server, sid, headers=None):
    return server.request("GET", "/ngsi-ld/v1/subscriptions/%s" % sid, headers or {}).json()


def data_of(notifications):
    return [e for n in notifications for e in n["body"]["data"]]


# --------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------

def check_notification_message(t, server, receiver):
    t.step("the notification: headers, body, tenant, receiverInfo, ld+json")
    sid = subscribe(t, server, {
        "id": "urn:ngsi-ld:Subscription:message", "entities": [{"type": "Kiosk"}],
        "notification": {"endpoint": {"uri": receiver.url("/hooks/kiosk?src=ct"),
                                      "receiverInfo": [{"key": "X-Api-Key", "value": "k1"},
                                                       {"key": "Fiware-ServicePath", "value": "/city"}]}}},
        "message", headers={"NGSILD-Tenant": "tenant1"})
    entity(t, server, "urn:ngsi-ld:Kiosk:1", "Kiosk", {"open": prop(True)}, headers={"NGSILD-Tenant": "tenant1"})
    got = receiver.wait_for(sid, 1)
    if not t.expect(len(got) == 1, "one notification for the kiosk", 1, len(got)):
        return
    n = got[0]
    h = n["headers"]
    t.expect_equal(n["path"], "/hooks/kiosk?src=ct", "the endpoint's path and query")
    t.expect_equal(h.get("content-type"), "application/json", "Content-Type")
    t.expect_equal(h.get("link"), link(CORE), "Link: the core context")
    t.expect_equal(h.get("ngsild-tenant"), "tenant1", "NGSILD-Tenant")
    t.expect_equal(h.get("x-api-key"), "k1", "receiverInfo header")
    t.expect_equal(h.get("fiware-servicepath"), "/city", "receiverInfo header 2")
    body = n["body"]
    t.expect(body.get("id", "").startswith("urn:ngsi-ld:Notification:"), "notification id", "urn:ngsi-ld:Notification:…", body.get("id"))
    t.expect_equal(body.get("type"), "Notification", "type")
    t.expect_equal(body.get("subscriptionId"), sid, "subscriptionId")
    t.expect(isinstance(body.get("notifiedAt"), str) and body["notifiedAt"].endswith("Z"), "notifiedAt", "a date-time", body.get("notifiedAt"))
    t.expect_equal(body.get("data"), [{"id": "urn:ngsi-ld:Kiosk:1", "type": "Kiosk", "open": {"type": "Property", "value": True}}],
                   "data: the entity, normalized")

    # The default tenant's entity of the same type is not the tenant's business
    entity(t, server, "urn:ngsi-ld:Kiosk:2", "Kiosk", {"open": prop(False)})
    patch(t, server, "urn:ngsi-ld:Kiosk:1", {"open": prop(False)}, headers={"NGSILD-Tenant": "tenant1"})
    got = receiver.wait_for(sid, 2)
    t.expect_equal([e["id"] for e in data_of(got)], ["urn:ngsi-ld:Kiosk:1", "urn:ngsi-ld:Kiosk:1"], "tenants kept apart")

    sid = subscribe(t, server, {
        "id": "urn:ngsi-ld:Subscription:ldjson", "entities": [{"type": "Kiosk"}],
        "notification": {"format": "keyValues", "endpoint": {"uri": receiver.url("/ld"), "accept": "application/ld+json"}}},
        "ld+json")
    patch(t, server, "urn:ngsi-ld:Kiosk:2", {"open": prop(True)})
    got = receiver.wait_for(sid, 1)
    if t.expect(len(got) == 1, "ld+json notification", 1, len(got)):
        t.expect_equal(got[0]["headers"].get("content-type"), "application/ld+json", "Content-Type ld+json")
        t.expect("link" not in got[0]["headers"], "no Link with ld+json", "none", got[0]["headers"].get("link"))
        t.expect_equal(got[0]["body"].get("@context"), CORE, "@context in the body")
        t.expect_equal(got[0]["body"]["data"], [{"id": "urn:ngsi-ld:Kiosk:2", "type": "Kiosk", "open": True}], "keyValues data")


def check_formats_and_changes(t, server, receiver):
    t.step("formats, attributes, sysAttrs, showChanges, a custom @context")
    env = {"Link": link(ENVIRONMENT)}
    entity(t, server, "urn:ngsi-ld:AirQualityObserved:dongsi", "AirQualityObserved",
           {"pm25": prop(40, unitCode="GQ"), "no2": prop(20), "refDevice": {"type": "Relationship", "object": "urn:ngsi-ld:Device:1"}},
           headers=env)
    subs = {
        "concise": {"attributes": ["pm25"], "format": "concise", "showChanges": True},
        "keyvalues": {"attributes": ["pm25", "no2"], "format": "keyValues"},
        "normalized": {"attributes": ["pm25", "refDevice"], "showChanges": True, "sysAttrs": True},
    }
    for name, notification in subs.items():
        notification = dict(notification)
        notification["endpoint"] = {"uri": receiver.url("/" + name)}
        subscribe(t, server, {"id": "urn:ngsi-ld:Subscription:" + name, "entities": [{"type": "AirQualityObserved"}],
                              "watchedAttributes": ["pm25", "refDevice"], "notification": notification}, name, headers=env)
    patch(t, server, "urn:ngsi-ld:AirQualityObserved:dongsi",
          {"pm25": prop(75, unitCode="GQ"), "refDevice": {"type": "Relationship", "object": "urn:ngsi-ld:Device:2"}}, headers=env)

    got = receiver.wait_for("urn:ngsi-ld:Subscription:concise", 1)
    if t.expect(len(got) == 1, "concise notification", 1, len(got)):
        t.expect_equal(got[0]["headers"].get("link"), link(ENVIRONMENT), "Link: the subscription's context")
        t.expect_equal(got[0]["body"]["data"], [{"id": "urn:ngsi-ld:AirQualityObserved:dongsi", "type": "AirQualityObserved",
                                                 "pm25": {"value": 75, "unitCode": "GQ", "previousValue": 40}}],
                       "concise, only pm25, with previousValue")
    got = receiver.wait_for("urn:ngsi-ld:Subscription:keyvalues", 1)
    if t.expect(len(got) == 1, "keyValues notification", 1, len(got)):
        t.expect_equal(got[0]["body"]["data"], [{"id": "urn:ngsi-ld:AirQualityObserved:dongsi", "type": "AirQualityObserved",
                                                 "pm25": 75, "no2": 20}], "keyValues, pm25 and no2")
    got = receiver.wait_for("urn:ngsi-ld:Subscription:normalized", 1)
    if t.expect(len(got) == 1, "normalized notification", 1, len(got)):
        e = got[0]["body"]["data"][0]
        t.expect_equal(e["pm25"].get("previousValue"), 40, "previousValue")
        t.expect_equal(e["refDevice"].get("previousObject"), "urn:ngsi-ld:Device:1", "previousObject of a Relationship")
        t.expect_equal(e["refDevice"].get("object"), "urn:ngsi-ld:Device:2", "new object")
        t.expect("createdAt" in e and "modifiedAt" in e["pm25"], "sysAttrs", "createdAt, modifiedAt", e)
        t.expect("no2" not in e, "attributes: no2 left out", "absent", e)

    # Not watched: no notification; the next watched change comes alone
    patch(t, server, "urn:ngsi-ld:AirQualityObserved:dongsi", {"no2": prop(21)}, headers=env)
    patch(t, server, "urn:ngsi-ld:AirQualityObserved:dongsi", {"pm25": prop(80, unitCode="GQ")}, headers=env)
    got = receiver.wait_for("urn:ngsi-ld:Subscription:keyvalues", 2)
    t.expect_equal([e.get("no2") for e in data_of(got)], [20, 21], "an unwatched change notifies nothing")
    t.expect_equal([e.get("pm25") for e in data_of(got)], [75, 80], "the watched one does")


def check_triggers(t, server, receiver):
    t.step("every notificationTrigger")
    triggers = ["entityCreated", "entityUpdated", "entityDeleted", "attributeCreated", "attributeUpdated", "attributeDeleted"]
    for trig in triggers + ["default"]:
        body = {"id": "urn:ngsi-ld:Subscription:trigger-" + trig, "entities": [{"type": "Lamp"}],
                "notification": {"format": "keyValues", "endpoint": {"uri": receiver.url("/" + trig)}}}
        if trig != "default":
            body["notificationTrigger"] = [trig]
        subscribe(t, server, body, trig)
    lamp = "urn:ngsi-ld:Lamp:1"
    entity(t, server, lamp, "Lamp", {"power": prop(10)})                                   # 1 created
    patch(t, server, lamp, {"power": prop(12)})                                            # 2 updated
    patch(t, server, lamp, {"color": prop("warm")})                                        # 3 attribute created
    write(t, server, "DELETE", "/ngsi-ld/v1/entities/%s/attrs/color" % lamp, what="delete attr")  # 4 attribute deleted
    write(t, server, "DELETE", "/ngsi-ld/v1/entities/%s" % lamp, what="delete entity")        # 5 deleted
    expected = {
        "entityCreated": [{"id": lamp, "type": "Lamp", "power": 10}],
        "entityUpdated": [{"id": lamp, "type": "Lamp", "power": 12},
                          {"id": lamp, "type": "Lamp", "power": 12, "color": "warm"},
                          {"id": lamp, "type": "Lamp", "power": 12, "color": "urn:ngsi-ld:null"}],
        "entityDeleted": [{"id": lamp, "type": "Lamp"}],
        "attributeCreated": [{"id": lamp, "type": "Lamp", "power": 10},
                             {"id": lamp, "type": "Lamp", "power": 12, "color": "warm"}],
        "attributeUpdated": [{"id": lamp, "type": "Lamp", "power": 12}],
        "attributeDeleted": [{"id": lamp, "type": "Lamp", "power": 12, "color": "urn:ngsi-ld:null"}],
        "default": [{"id": lamp, "type": "Lamp", "power": 10}, {"id": lamp, "type": "Lamp", "power": 12},
                    {"id": lamp, "type": "Lamp", "power": 12, "color": "warm"}],
    }
    for trig, data in expected.items():
        receiver.wait_for("urn:ngsi-ld:Subscription:trigger-" + trig, len(data))
    time.sleep(1)  # anything unexpected would have come by now (notifications take milliseconds)
    for trig, data in expected.items():
        t.expect_equal(data_of(receiver.notifications("urn:ngsi-ld:Subscription:trigger-" + trig)), data, "trigger " + trig)


def check_selection(t, server, receiver):
    t.step("entities (type, id, idPattern), q, geoQ, scopeQ")
    def sub(name, members):
        body = {"id": "urn:ngsi-ld:Subscription:" + name,
                "notification": {"format": "keyValues", "attributes": ["level"], "endpoint": {"uri": receiver.url("/" + name)}}}
        body.update(members)
        subscribe(t, server, body, name)
    sub("by-id", {"entities": [{"type": "Bin", "id": "urn:ngsi-ld:Bin:2"}]})
    sub("by-pattern", {"entities": [{"type": "Bin", "idPattern": "^urn:ngsi-ld:Bin:[13]$"}]})
    sub("by-q", {"entities": [{"type": "Bin"}], "q": "level>=80;status==\"full\""})
    sub("by-geo", {"entities": [{"type": "Bin"}], "geoQ": {"geometry": "Polygon", "georel": "within",
                                                           "coordinates": [[[116.0, 39.0], [117.0, 39.0], [117.0, 40.0], [116.0, 40.0], [116.0, 39.0]]]}})
    sub("by-near", {"watchedAttributes": ["level"], "geoQ": {"geometry": "Point", "coordinates": [2.35, 48.85], "georel": "near;maxDistance==1000"}})
    sub("by-scope", {"entities": [{"type": "Bin"}], "scopeQ": "/Beijing/Chaoyang/#"})
    bins = [("urn:ngsi-ld:Bin:1", [116.4, 39.9], "/Beijing/Chaoyang/Sanlitun"),
            ("urn:ngsi-ld:Bin:2", [2.35, 48.85], "/Paris"),
            ("urn:ngsi-ld:Bin:3", [116.5, 39.95], "/Beijing/Haidian")]
    for eid, point, scope in bins:
        entity(t, server, eid, "Bin", {"level": prop(10), "status": prop("ok"), "scope": scope,
                                      "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": point}}})
    for eid, _, _ in bins:
        patch(t, server, eid, {"level": prop(90), "status": prop("full")})
    expected = {
        "by-id": [("urn:ngsi-ld:Bin:2", 10), ("urn:ngsi-ld:Bin:2", 90)],
        "by-pattern": [("urn:ngsi-ld:Bin:1", 10), ("urn:ngsi-ld:Bin:3", 10), ("urn:ngsi-ld:Bin:1", 90), ("urn:ngsi-ld:Bin:3", 90)],
        "by-q": [("urn:ngsi-ld:Bin:1", 90), ("urn:ngsi-ld:Bin:2", 90), ("urn:ngsi-ld:Bin:3", 90)],
        "by-geo": [("urn:ngsi-ld:Bin:1", 10), ("urn:ngsi-ld:Bin:3", 10), ("urn:ngsi-ld:Bin:1", 90), ("urn:ngsi-ld:Bin:3", 90)],
        "by-near": [("urn:ngsi-ld:Bin:2", 10), ("urn:ngsi-ld:Bin:2", 90)],
        "by-scope": [("urn:ngsi-ld:Bin:1", 10), ("urn:ngsi-ld:Bin:1", 90)],
    }
    for name, want in expected.items():
        receiver.wait_for("urn:ngsi-ld:Subscription:" + name, len(want))
    time.sleep(1)  # anything unexpected would have come by now
    for name, want in expected.items():
        seen = [[e["id"], e.get("level")] for e in data_of(receiver.notifications("urn:ngsi-ld:Subscription:" + name))]
        t.expect_equal(seen, [list(x) for x in want], "selected by " + name)


def check_batch_writes(t, server, receiver):
    t.step("batch upsert and delete notify too")
    sid = subscribe(t, server, {"id": "urn:ngsi-ld:Subscription:batch", "entities": [{"type": "Meter"}],
                                "notificationTrigger": ["entityCreated", "attributeUpdated", "entityDeleted"],
                                "notification": {"format": "keyValues", "endpoint": {"uri": receiver.url("/batch")}}}, "batch")
    meters = [{"id": "urn:ngsi-ld:Meter:%d" % i, "type": "Meter", "reading": prop(i)} for i in range(5)]
    write(t, server, "POST", "/ngsi-ld/v1/entityOperations/upsert", meters, "batch upsert", status=(201, 204))
    for m in meters:
        m["reading"]["value"] += 100
    write(t, server, "POST", "/ngsi-ld/v1/entityOperations/upsert", meters, "batch upsert again", status=(201, 204))
    write(t, server, "POST", "/ngsi-ld/v1/entityOperations/delete", [m["id"] for m in meters], "batch delete", status=(200, 204))
    got = data_of(receiver.wait_for(sid, 15))
    t.expect_equal(sorted([e["id"], e.get("reading", -1)] for e in got),
                   sorted([[m["id"], i] for i, m in enumerate(meters)] + [[m["id"], i + 100] for i, m in enumerate(meters)] +
                          [[m["id"], -1] for m in meters]), "5 created, 5 updated, 5 deleted (id and type only)")


def check_throttling(t, server, receiver):
    t.step("throttling: held changes merged into one later notification with the latest state")
    sid = subscribe(t, server, {"id": "urn:ngsi-ld:Subscription:throttled", "entities": [{"type": "Gauge"}], "throttling": 2,
                                "notification": {"format": "keyValues", "endpoint": {"uri": receiver.url("/throttled")}}}, "throttled")
    entity(t, server, "urn:ngsi-ld:Gauge:1", "Gauge", {"v": prop(0)})
    entity(t, server, "urn:ngsi-ld:Gauge:2", "Gauge", {"v": prop(0)})
    first = receiver.wait_for(sid, 1)
    for i in range(1, 6):
        patch(t, server, "urn:ngsi-ld:Gauge:1", {"v": prop(i)})
    patch(t, server, "urn:ngsi-ld:Gauge:2", {"v": prop(7)})
    got = receiver.wait_for(sid, 2, timeout=8)
    t.expect(len(first) >= 1, "the first change is notified at once", 1, len(first))
    if t.expect(len(got) == 2, "then one more notification", 2, len(got)):
        t.expect_equal(sorted([e["id"], e["v"]] for e in got[1]["body"]["data"]),
                       [["urn:ngsi-ld:Gauge:1", 5], ["urn:ngsi-ld:Gauge:2", 7]], "the latest state of each entity that changed")
        gap = got[1]["at"] - got[0]["at"]
        t.expect(1.5 <= gap <= 4, "notified a throttling period after the first", "about 2 s", "%.2f s" % gap)
    time.sleep(0.5)
    t.expect_equal(len(receiver.notifications(sid)), 2, "nothing more")


def check_periodic(t, server, receiver):
    t.step("timeInterval: every matching entity, periodically")
    entity(t, server, "urn:ngsi-ld:Tank:1", "Tank", {"fill": prop(0.5)})
    entity(t, server, "urn:ngsi-ld:Tank:2", "Tank", {"fill": prop(0.7)})
    entity(t, server, "urn:ngsi-ld:Tank:3", "Tank", {"fill": prop(0.1)})
    sid = subscribe(t, server, {"id": "urn:ngsi-ld:Subscription:periodic", "entities": [{"type": "Tank"}], "q": "fill>0.3",
                                "timeInterval": 1, "notification": {"format": "keyValues", "endpoint": {"uri": receiver.url("/periodic")}}},
                    "periodic")
    got = receiver.wait_for(sid, 3, timeout=6)
    if t.expect(len(got) >= 3, "three periodic notifications", ">= 3", len(got)):
        t.expect_equal(sorted(e["id"] for e in got[0]["body"]["data"]), ["urn:ngsi-ld:Tank:1", "urn:ngsi-ld:Tank:2"],
                       "the matching entities")
        gaps = [round(got[i + 1]["at"] - got[i]["at"], 2) for i in range(2)]
        t.expect(all(0.7 <= g <= 1.6 for g in gaps), "one second apart", "~1 s", gaps)
    patch(t, server, "urn:ngsi-ld:Tank:1", {"fill": prop(0.2)})  # changes do not notify a periodic subscription
    write(t, server, "PATCH", "/ngsi-ld/v1/subscriptions/%s" % sid, {"isActive": False}, "pause periodic")
    time.sleep(0.3)
    count = len(receiver.notifications(sid))
    time.sleep(1.5)
    t.expect_equal(len(receiver.notifications(sid)), count, "paused: no more periodic notifications")
    write(t, server, "DELETE", "/ngsi-ld/v1/subscriptions/%s" % sid, what="delete periodic")


def check_pause_and_expiry(t, server, receiver):
    t.step("isActive false pauses, true resumes; expiresAt ends it")
    sid = subscribe(t, server, {"id": "urn:ngsi-ld:Subscription:pausable", "entities": [{"type": "Door"}],
                                "notification": {"format": "keyValues", "endpoint": {"uri": receiver.url("/pausable")}}}, "pausable")
    entity(t, server, "urn:ngsi-ld:Door:1", "Door", {"open": prop(False)})
    receiver.wait_for(sid, 1)
    write(t, server, "PATCH", "/ngsi-ld/v1/subscriptions/%s" % sid, {"isActive": False}, "pause")
    t.expect_equal(get_subscription(server, sid).get("status"), "paused", "status paused")
    patch(t, server, "urn:ngsi-ld:Door:1", {"open": prop(True)})
    write(t, server, "PATCH", "/ngsi-ld/v1/subscriptions/%s" % sid, {"isActive": True}, "resume")
    patch(t, server, "urn:ngsi-ld:Door:1", {"open": prop(False)})
    got = receiver.wait_for(sid, 2)
    t.expect_equal([e["open"] for e in data_of(got)], [False, False], "the change made while paused was not notified")

    expires = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 2)) + "Z"
    sid = subscribe(t, server, {"id": "urn:ngsi-ld:Subscription:expiring", "entities": [{"type": "Door"}], "expiresAt": expires,
                                "notification": {"format": "keyValues", "endpoint": {"uri": receiver.url("/expiring")}}}, "expiring")
    patch(t, server, "urn:ngsi-ld:Door:1", {"open": prop(True)})
    receiver.wait_for(sid, 1)
    time.sleep(max(0, time.mktime(time.strptime(expires, "%Y-%m-%dT%H:%M:%SZ")) - time.mktime(time.gmtime()) + 0.5))
    t.expect_equal(get_subscription(server, sid).get("status"), "expired", "status expired")
    patch(t, server, "urn:ngsi-ld:Door:1", {"open": prop(False)})
    got = receiver.wait_for("urn:ngsi-ld:Subscription:pausable", 4)  # the pausable one sees it: nothing is on its way
    t.expect_equal(len(receiver.notifications(sid)), 1, "nothing after expiresAt")


def check_status(t, server, receiver):
    t.step("the status: counts and times; a refused notification")
    sid = "urn:ngsi-ld:Subscription:pausable"
    s = get_subscription(server, sid)
    n = s.get("notification", {})
    t.expect(n.get("timesSent", 0) >= 3 and n.get("timesFailed") == 0, "timesSent counted, nothing failed", ">= 3, 0",
             (n.get("timesSent"), n.get("timesFailed")))
    t.expect_equal(n.get("status"), "ok", "notification.status ok")
    t.expect(n.get("lastSuccess") and n.get("lastNotification") and "lastFailure" not in n, "lastSuccess, lastNotification",
             "set", n)
    receiver.status = 400
    try:
        patch(t, server, "urn:ngsi-ld:Door:1", {"open": prop(True)})
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            n = get_subscription(server, sid)["notification"]
            if n.get("timesFailed", 0) >= 1:
                break
            time.sleep(0.05)
        t.expect_equal(n.get("timesFailed"), 1, "a refused notification counts as failed, once (not retried)")
        t.expect_equal(n.get("status"), "failed", "notification.status failed")
        t.expect(n.get("lastFailure", "") >= n.get("lastSuccess", "~"), "lastFailure after lastSuccess", "later", n)
    finally:
        receiver.status = 200
    patch(t, server, "urn:ngsi-ld:Door:1", {"open": prop(False)})
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and get_subscription(server, sid)["notification"].get("status") != "ok":
        time.sleep(0.05)
    n = get_subscription(server, sid)["notification"]
    t.expect_equal(n.get("status"), "ok", "ok again after a success")
    t.expect(n.get("lastSuccess", "") >= n.get("lastFailure", "~"), "lastSuccess after lastFailure", "later", n)


def check_restart(t, server, receiver):
    t.step("after a restart the subscriptions notify again")
    server.restart()
    patch(t, server, "urn:ngsi-ld:AirQualityObserved:dongsi", {"pm25": prop(33, unitCode="GQ")}, headers={"Link": link(ENVIRONMENT)})
    got = receiver.wait_for("urn:ngsi-ld:Subscription:keyvalues", 3)
    t.expect_equal([e.get("pm25") for e in data_of(got)], [75, 80, 33], "restored and notifying, with its @context")
    if got:
        t.expect_equal(got[-1]["headers"].get("link"), link(ENVIRONMENT), "its @context restored")


def main():
    args = test_arguments(__doc__.splitlines()[0]).parse_args()
    t = Checker("subscription_test")
    receiver = Receiver().start()
    try:
        with Server(args.binary, keep=args.keep) as server:
            for check in (check_notification_message, check_formats_and_changes, check_triggers, check_selection,
                          check_batch_writes, check_throttling, check_periodic, check_pause_and_expiry, check_status,
                          check_restart):
                check(t, server, receiver)
            if t.failures:
                print(server.log_tail())
    finally:
        receiver.stop()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
