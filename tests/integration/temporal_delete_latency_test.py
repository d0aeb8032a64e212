#!/usr/bin/env python3
"""Deleting history does not hold up the HTTP worker (issue 14, part 5): with ONE worker thread, the
history of an attribute with 100,000 points is deleted on one connection while a client reads, on
another, an entity and another entity's history. Every read during the deletion answers within a
generous bound made from reads without it (in the same run), while the deletion itself takes longer
than that bound, so a read queued behind it would have failed. Then the history is gone, the other
attribute's history stays, and the deletion was durable when answered (it is still gone after kill -9).

    python3 temporal_delete_latency_test.py --binary build/release/citytwin
"""

import datetime
import os
import statistics
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, stop_and_check, test_arguments  # noqa: E402

JSON = {"Content-Type": "application/json"}
T = "/ngsi-ld/v1/temporal/entities"
POINTS = 100_000
PER_REQUEST = 5_000  # instances per back-fill request (well under the body limit)
BASE = 1_709_251_200_000  # 2024-03-01T00:00:00Z
EID = "urn:ngsi-ld:Meter:heavy"


def iso(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def timed_get(conn, path):
    start = time.monotonic()
    conn.request("GET", path)
    r = conn.getresponse()
    r.read()
    return r.status, start, time.monotonic() - start


def main():
    args = test_arguments(__doc__).parse_args()
    t = Checker("deleting a long history leaves the worker free")
    # One HTTP worker: whatever a handler waits for, every other request waits for too. No
    # compaction during the test: the 100,000 points stay raw records, the costliest to delete.
    server = Server(args.binary, keep=args.keep,
                    extra_args=["--threads", "1", "--history-compact-interval-ms", "86400000"])
    try:
        server.start()
        t.step("an entity with %d history points of one attribute, and small ones to read" % POINTS)
        for first in range(0, POINTS, PER_REQUEST):
            instances = [{"type": "Property", "value": k % 1000 / 10, "observedAt": iso(BASE + k * 1000)}
                         for k in range(first, first + PER_REQUEST)]
            body = {"count": instances}
            if first == 0:
                body.update({"id": EID, "type": "Meter",
                             "state": [{"type": "Property", "value": "on", "observedAt": iso(BASE)}]})
                r = server.request("POST", T, JSON, json_body=body)
            else:
                r = server.request("POST", T + "/" + EID + "/attrs", JSON, json_body=body)
            if not t.expect(r.status in (201, 204), "back-fill from point %d" % first, "201/204", r):
                return t.finish()
        r = server.request("POST", T, JSON, json_body={
            "id": "urn:ngsi-ld:Meter:small", "type": "Meter",
            "count": [{"type": "Property", "value": k, "observedAt": iso(BASE + k * 60000)} for k in range(20)]})
        t.expect(r.status == 201, "a small entity with history", 201, r)
        reads = ["/ngsi-ld/v1/entities/urn:ngsi-ld:Meter:small", T + "/urn:ngsi-ld:Meter:small?lastN=5"]

        t.step("reads without a deletion: the baseline")
        reader = server.connection()
        baseline = []
        for i in range(200):
            status, _, took = timed_get(reader, reads[i % 2])
            if status != 200:
                t.fail("a read without a deletion", 200, status)
            baseline.append(took)
        baseline.sort()
        p99 = baseline[int(len(baseline) * 0.99) - 1]
        bound = max(0.25, 20 * p99)  # generous: the machine may be busy; a blocked read waits ~ the whole deletion
        print("    baseline: median %.2f ms, p99 %.2f ms, max %.2f ms; bound %.1f ms"
              % (statistics.median(baseline) * 1e3, p99 * 1e3, baseline[-1] * 1e3, bound * 1e3), flush=True)

        t.step("reads while the history of the attribute is deleted")
        deleter = server.connection(timeout=120)
        outcome = {}
        sent = threading.Event()

        def delete():
            outcome["start"] = time.monotonic()
            deleter.request("DELETE", T + "/" + EID + "/attrs/count")
            sent.set()
            r = deleter.getresponse()
            r.read()
            outcome["status"] = r.status
            outcome["end"] = time.monotonic()

        thread = threading.Thread(target=delete)
        thread.start()
        sent.wait(30)
        during = []
        slow = []
        i = 0
        while "end" not in outcome:
            status, start, took = timed_get(reader, reads[i % 2])
            i += 1
            if status != 200:
                t.fail("a read during the deletion", 200, status)
            if "end" not in outcome or start + took <= outcome["end"]:
                during.append(took)
                slow.append((took, reads[(i - 1) % 2], start - outcome["start"]))
        thread.join()
        deletion = outcome["end"] - outcome["start"]
        t.expect(outcome.get("status") == 204, "the deletion answers 204", 204, outcome.get("status"))
        print("    deletion took %.1f ms; %d reads during it: median %.2f ms, max %.2f ms"
              % (deletion * 1e3, len(during), statistics.median(during) * 1e3 if during else 0,
                 max(during) * 1e3 if during else 0), flush=True)
        print("    slowest reads: %s" % ["%.1f ms %s at +%.0f ms" % (a * 1e3, b, c * 1e3) for a, b, c in sorted(slow)[-3:]])
        t.expect(deletion > bound, "the deletion takes longer than the bound (else this test shows nothing)",
                 "> %.1f ms" % (bound * 1e3), "%.1f ms" % (deletion * 1e3))
        t.expect(len(during) >= 3, "reads ran during the deletion", ">= 3", len(during))
        t.expect(during and max(during) <= bound, "no read during the deletion waited for it",
                 "<= %.1f ms" % (bound * 1e3), "%.1f ms" % (max(during) * 1e3) if during else "no read")

        t.step("the history is gone, durably; the rest stays")
        for label in ("answered", "after kill -9"):
            r = server.request("GET", T + "/" + EID + "?lastN=1")
            body = r.json() if r.status == 200 else {}
            t.expect(r.status == 200 and "count" not in body and len(body.get("state", [])) == 1,
                     "%s: count's history is gone, state's stays" % label, "state only", r)
            if label == "answered":
                server.restart(crash=True)
    finally:
        stop_and_check(t, server)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
