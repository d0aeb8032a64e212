#!/usr/bin/env python3
"""Durability under kill -9: writer threads create, patch and delete entities over keep-alive
connections; the server is killed with SIGKILL mid-stream and restarted on the same data dir.
Every write that was acknowledged (2xx) must be there after the restart: created entities exist,
each patched attribute has its last acknowledged value (or the value of the one request that was
still in flight on that connection), deleted entities stay deleted. Several rounds, the data dir
accumulating.

    python3 crash_test.py --binary build/release/citytwin [--rounds 5] [--threads 6]
"""

import http.client
import json
import os
import random
import sys
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, stop_and_check, test_arguments  # noqa: E402
from testkit import kill9_rounds  # noqa: E402

JSON = {"Content-Type": "application/json"}
ABSENT = None  # the state of an entity that does not exist


class EntityRecord:
    """What the server must hold for one entity after a crash."""

    def __init__(self, eid):
        self.eid = eid
        self.acked = ABSENT      # the state after the last acknowledged write: None or the counter value
        self.pending = []        # states the one in-flight write (if any) would have produced
        self.acked_writes = 0

    def allowed(self):
        return [self.acked] + self.pending


class Writer(threading.Thread):
    def __init__(self, port, round_no, index, records, lock, stop, errors, seed):
        super().__init__(daemon=True)
        self.port = port
        self.prefix = "urn:ngsi-ld:Sensor:r%d-w%d-" % (round_no, index)
        self.records = records
        self.lock = lock
        self.stop = stop
        self.errors = errors
        self.rng = random.Random(seed)
        self.live = []           # ids this writer created and has not deleted (acknowledged)
        self.serial = 0
        self.acks = 0

    def record(self, eid):
        with self.lock:
            if eid not in self.records:
                self.records[eid] = EntityRecord(eid)
            return self.records[eid]

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            while not self.stop.is_set():
                if not self.step(conn):
                    return
        finally:
            conn.close()

    def step(self, conn):
        roll = self.rng.random()
        if not self.live or roll < 0.2:
            self.serial += 1
            eid = "%s%d" % (self.prefix, self.serial)
            body = json.dumps({"id": eid, "type": "Sensor",
                               "counter": {"type": "Property", "value": 0, "unitCode": "C62"},
                               "label": {"type": "Property", "value": "w%s" % eid[-6:]}})
            return self.write(conn, "POST", "/ngsi-ld/v1/entities", body, eid, 0, 201, created=True)
        eid = self.rng.choice(self.live)
        rec = self.records[eid]
        if roll < 0.25:
            return self.write(conn, "DELETE", "/ngsi-ld/v1/entities/" + eid, None, eid, ABSENT, 204, deleted=True)
        value = rec.acked + 1
        if roll < 0.6:
            return self.write(conn, "PATCH", "/ngsi-ld/v1/entities/%s/attrs/counter" % eid,
                              json.dumps({"value": value}), eid, value, 204)
        if roll < 0.8:
            return self.write(conn, "PATCH", "/ngsi-ld/v1/entities/" + eid,
                              json.dumps({"counter": {"type": "Property", "value": value}}), eid, value, 204)
        return self.write(conn, "PATCH", "/ngsi-ld/v1/entities/%s/attrs" % eid,
                          json.dumps({"counter": {"type": "Property", "value": value, "unitCode": "C62"}}), eid, value, 204)

    def write(self, conn, method, path, body, eid, new_state, ok_status, created=False, deleted=False):
        rec = self.record(eid)
        rec.pending = [new_state]  # from here until the answer, the write may or may not be applied
        try:
            conn.request(method, path, body=body, headers=JSON if body else {})
            r = conn.getresponse()
            r.read()
        except (OSError, http.client.HTTPException):
            return False  # the server died: the write stays pending
        if r.status != ok_status:
            rec.pending = []
            self.errors.append("%s %s -> %d (expected %d) before the kill" % (method, path, r.status, ok_status))
            return False
        rec.acked = new_state
        rec.pending = []
        rec.acked_writes += 1
        self.acks += 1
        if created:
            self.live.append(eid)
        if deleted:
            self.live.remove(eid)
        return True


def verify(t, server, records, label):
    bad = 0
    present_min = present_max = 0
    for eid, rec in sorted(records.items()):
        allowed = rec.allowed()
        if any(a is not ABSENT for a in allowed):
            present_max += 1
        if all(a is not ABSENT for a in allowed):
            present_min += 1
        r = server.request("GET", "/ngsi-ld/v1/entities/%s?options=keyValues&attrs=counter" % eid)
        if r.status == 404:
            actual = ABSENT
        elif r.status == 200:
            actual = r.json().get("counter")
        else:
            t.fail("%s: GET %s" % (label, eid), "200 or 404", "%d %s" % (r.status, r.text()[:200]))
            bad += 1
            continue
        ok = any(actual == a for a in allowed)
        t.checks += 1
        if not ok:
            bad += 1
            if bad <= 15:
                t.fail("%s: %s after restart" % (label, eid),
                       "one of %s (last acknowledged first; %d writes acknowledged)" % (
                           ["absent" if a is ABSENT else "counter=%s" % a for a in allowed], rec.acked_writes),
                       "absent" if actual is ABSENT else "counter=%s" % actual)
    count = server.request("GET", "/health").json().get("entities")
    t.expect(present_min <= count <= present_max, "%s: /health entity count" % label,
             "between %d and %d" % (present_min, present_max), count)
    if bad > 15:
        t.fail("%s: %d more entities differ" % (label, bad - 15))
    return bad


def main():
    ap = test_arguments(__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=6)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    t = Checker("crash_test (seed %d)" % seed)
    rng = random.Random(seed)
    server = Server(args.binary, keep=args.keep)
    records = {}
    try:
        server.start()
        current = {}  # the round's start time and errors

        def make_writers(round_no, stop):
            current.update(started=time.monotonic(), errors=[])
            lock = threading.Lock()
            return [Writer(server.port, round_no, i, records, lock, stop, current["errors"], rng.randrange(1 << 30))
                    for i in range(args.threads)]

        def after_restart(round_no, writers):
            acks_at_kill = sum(w.acks for w in writers)  # none come after the kill
            for e in current["errors"][:5]:
                t.fail("round %d: %s" % (round_no, e))
            in_flight = sum(1 for r in records.values() if r.pending)
            bad = verify(t, server, records, "round %d" % round_no)
            t.step("round %d: %d writes acknowledged before kill -9 (%d in flight), %d entities checked, "
                   "%d wrong, %.1f s" % (round_no, acks_at_kill, in_flight, len(records), bad,
                                         time.monotonic() - current["started"]))
            t.expect(acks_at_kill > 0, "round %d: some writes were acknowledged before the kill" % round_no)
            # what was in flight is now settled, as the restarted server holds it
            for rec in records.values():
                if rec.pending:
                    r = server.request("GET", "/ngsi-ld/v1/entities/%s?options=keyValues&attrs=counter" % rec.eid)
                    rec.acked = r.json().get("counter") if r.status == 200 else ABSENT
                    rec.pending = []

        kill9_rounds(t, server, args.rounds, rng, make_writers, after_restart, write_for=(0.4, 1.5))
        t.step("final clean restart")
        server.restart()
        verify(t, server, records, "after a clean restart")
    finally:
        stop_and_check(t, server)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
