#!/usr/bin/env python3
"""Notifications under load keep up, lose nothing while the receiver is healthy, and one hung path
does not starve another on the same host:port (issue #13, items 4 and 5).

- Keeping up: one subscription, UPDATES updates as fast as the server takes them (WRITERS client
  threads on keep-alive connections sending batch upserts of BATCH entities; each entity's change is
  one notification), a receiver that answers at once: it gets every one of them
  (each (entity, value) exactly as written), the subscription says timesSent == UPDATES and
  timesFailed == 0, and /metrics counts no dropped notification.
- Fairness: HUNG subscriptions to a path of the receiver that never answers and one to a good path
  of the same receiver (same host:port): every change reaches the good path, p99 of the latency
  (the send time carried in the entity, to the receipt) under 2 s. The hung subscriptions report
  their failures (status "failed", timesFailed, lastFailure) once their requests time out.

    python3 subscription_load_test.py --binary build/release/citytwin
"""

import json
import os
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, stop_and_check, test_arguments  # noqa: E402
from subscription_test import entity, get_subscription, prop, subscribe  # noqa: E402
from testkit import Receiver  # noqa: E402

UPDATES = 10_000
WRITERS = 8
BATCH = 25  # updates per batch upsert (of distinct entities: fewer than the WRITERS * 4 ids)
HUNG = 200
CHANGES = 60          # changes watched by the hung and the good subscriptions
CHANGE_PERIOD = 0.05  # seconds between them
MAX_P99 = 2.0


def metric(server, name, labels=""):
    text = server.request("GET", "/metrics").text()
    for line in text.splitlines():
        if line.startswith(name + labels + " ") or (not labels and line.startswith(name + " ")):
            return float(line.rsplit(" ", 1)[1])
    return None


def wait_until(condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def writer(server, ids, first, count, errors):
    """Sets n = i on ids[i % len(ids)] for i in [first, first + count), BATCH updates of distinct
    entities per batch upsert, on its own connection."""
    conn = server.connection(timeout=60)
    try:
        for start in range(first, first + count, BATCH):
            batch = [{"id": ids[i % len(ids)], "type": "Meter", "n": {"type": "Property", "value": i}}
                     for i in range(start, min(start + BATCH, first + count))]
            conn.request("POST", "/ngsi-ld/v1/entityOperations/upsert?options=update", body=json.dumps(batch),
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            if r.status not in (201, 204):
                errors.append((start, r.status))
    finally:
        conn.close()


def check_keeping_up(t, server, receiver):
    t.step("one subscription, %d updates from %d writers: every notification arrives" % (UPDATES, WRITERS))
    ids = ["urn:ngsi-ld:Meter:%d" % k for k in range(WRITERS * 4)]
    for eid in ids:
        entity(t, server, eid, "Meter", {"n": prop(-1)})
    sid = subscribe(t, server, {"id": "urn:ngsi-ld:Subscription:load", "entities": [{"type": "Meter"}],
                                "watchedAttributes": ["n"],
                                "notification": {"format": "keyValues", "attributes": ["n"],
                                                 "endpoint": {"uri": receiver.url("/load")}}}, "load")
    errors = []
    per_writer = UPDATES // WRITERS
    threads = [threading.Thread(target=writer, args=(server, ids, w * per_writer, per_writer, errors))
               for w in range(WRITERS)]
    start = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wrote = time.monotonic() - start
    t.expect_equal(errors, [], "every batch upsert answered 204")
    arrived = wait_until(lambda: len(receiver.notifications(sid)) >= UPDATES, 90)
    took = time.monotonic() - start
    got = receiver.notifications(sid)
    print("   %d updates written in %.1f s, %d notifications received after %.1f s" % (UPDATES, wrote, len(got), took))
    t.expect(arrived, "all %d notifications arrived" % UPDATES, UPDATES, len(got))
    seen = sorted((e["id"], e["n"]) for r in got for e in r["body"]["data"])
    expected = sorted((ids[i % len(ids)], i) for i in range(UPDATES))
    t.expect(seen == expected, "each update notified once, with its value", "%d pairs" % len(expected),
             "%d pairs, %d distinct" % (len(seen), len(set(seen))))
    n = get_subscription(server, sid)["notification"]
    t.expect_equal(n.get("timesSent"), UPDATES, "timesSent")
    t.expect_equal(n.get("timesFailed"), 0, "timesFailed")
    t.expect_equal(n.get("status"), "ok", "status")
    t.expect_equal(metric(server, "citytwin_notify_deliveries_total", '{outcome="dropped"}'), 0.0,
                   "no notification dropped (metrics)")


def check_hung_path(t, server, receiver):
    t.step("%d subscriptions to a hung path and one to a good path of the same receiver" % HUNG)
    receiver.hang_paths.add("/hung")
    eid = "urn:ngsi-ld:Beacon:1"
    entity(t, server, eid, "Beacon", {"sent": prop(time.time()), "k": prop(-1)})
    hung_ids = []
    for k in range(HUNG):
        hung_ids.append(subscribe(t, server, {"id": "urn:ngsi-ld:Subscription:hung%d" % k, "entities": [{"type": "Beacon"}],
                                              "notification": {"format": "keyValues",
                                                               "endpoint": {"uri": receiver.url("/hung")}}}, "hung"))
    good = subscribe(t, server, {"id": "urn:ngsi-ld:Subscription:good", "entities": [{"type": "Beacon"}],
                                 "notification": {"format": "keyValues", "endpoint": {"uri": receiver.url("/good")}}}, "good")
    for k in range(CHANGES):
        r = server.request("PATCH", "/ngsi-ld/v1/entities/%s/attrs" % eid, {"Content-Type": "application/json"},
                           json_body={"sent": prop(time.time()), "k": prop(k)})
        t.expect_status(r, 204, "PATCH %d" % k)
        time.sleep(CHANGE_PERIOD)  # pacing the changes, not waiting for a condition
    wait_until(lambda: {e["k"] for n in receiver.notifications(good) for e in n["body"]["data"]} >= set(range(CHANGES)), 20)
    got = [(e, n["at"]) for n in receiver.notifications(good) for e in n["body"]["data"] if e["k"] >= 0]
    t.expect_equal(sorted(e["k"] for e, _ in got), list(range(CHANGES)), "the good path got every change, once")
    latencies = sorted(at - e["sent"] for e, at in got)
    if latencies:
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print("   good path latency: median %.3f s, p99 %.3f s, max %.3f s; the hung path holds %d requests"
              % (latencies[len(latencies) // 2], p99, latencies[-1], receiver.hung))
        t.expect(p99 < MAX_P99, "p99 latency of the good path under %.0f s" % MAX_P99, "< %.1f" % MAX_P99, round(p99, 3))
    t.expect(receiver.hung > 0, "the hung path was tried", "> 0", receiver.hung)
    n = get_subscription(server, good)["notification"]
    t.expect_equal((n.get("status"), n.get("timesFailed")), ("ok", 0), "the good subscription: ok, no failure")

    t.step("the hung subscriptions say so once their requests time out")
    failed_attempts = lambda: metric(server, "citytwin_notify_deliveries_total", '{outcome="failed_attempt"}') or 0
    t.expect(wait_until(lambda: failed_attempts() >= 1, 30), "failed attempts counted in /metrics", ">= 1",
             failed_attempts())
    states = [get_subscription(server, sid)["notification"] for sid in hung_ids]
    failed = [s for s in states if s.get("status") == "failed" and s.get("timesFailed", 0) >= 1 and "lastFailure" in s]
    t.expect(len(failed) >= 1, "hung subscriptions with status failed, timesFailed and lastFailure", ">= 1", len(failed))


def main():
    args = test_arguments(__doc__.splitlines()[0]).parse_args()
    t = Checker("subscription_load_test")
    receiver = Receiver().start()
    receiver.status = 204
    try:
        with Server(args.binary, keep=args.keep, extra_args=["--log-level", "warn"]) as server:
            check_keeping_up(t, server, receiver)
            check_hung_path(t, server, receiver)
            stop_and_check(t, server)
    finally:
        receiver.stop()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
