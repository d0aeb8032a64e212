#!/usr/bin/env python3
"""Batch durability under kill -9: writer threads send batch upserts (replace and update modes,
some with an invalid entity, so answered 207) and batch deletes over keep-alive connections; the
server is killed with SIGKILL mid-stream and restarted on the same data dir. Every entity of an
acknowledged batch (201, 204, or listed in a 207's "success") must be there with the values of
that batch or of the one batch that was still in flight for it; a deleted one must stay deleted.
Each entity is applied whole: its "counter" and "batch" attributes always come from one batch.

    python3 batch_crash_test.py --binary build/release/citytwin [--rounds 4] [--threads 4]
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
ABSENT = None
POOL = 50        # entities per writer
BATCH = (5, 30)  # entities per batch


class Record:
    """What the server must hold for one entity: the (counter, batch) of the last acknowledged
    write or ABSENT, and the states the one in-flight batch would have produced."""

    def __init__(self, eid):
        self.eid = eid
        self.acked = ABSENT
        self.pending = []
        self.acks = 0

    def allowed(self):
        return [self.acked] + self.pending


class Writer(threading.Thread):
    def __init__(self, port, round_no, index, records, stop, errors, seed):
        super().__init__(daemon=True)
        self.port, self.stop, self.errors = port, stop, errors
        self.rng = random.Random(seed)
        self.tag = "r%d-w%d" % (round_no, index)
        # each writer owns its ids (reused across rounds), so one entity has one writer
        self.ids = ["urn:ngsi-ld:Sensor:w%d-%03d" % (index, n) for n in range(POOL)]
        for eid in self.ids:
            records.setdefault(eid, Record(eid))
        self.records = records
        self.serial = 0
        self.acked_batches = 0

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            while not self.stop.is_set():
                if not self.step(conn):
                    return
        finally:
            conn.close()

    def post(self, conn, path, body):
        try:
            conn.request("POST", path, body=json.dumps(body), headers=JSON)
            r = conn.getresponse()
            return r.status, r.read()
        except (OSError, http.client.HTTPException):
            return None, None  # the server died: what was in flight stays pending

    def step(self, conn):
        rng = self.rng
        self.serial += 1
        chosen = rng.sample(self.ids, rng.randint(*BATCH))
        if rng.random() < 0.12:
            return self.delete(conn, chosen[:6])
        mode = "update" if rng.random() < 0.3 else "replace"
        batch_tag = "%s-b%d" % (self.tag, self.serial)
        body, states = [], {}
        for eid in chosen:
            rec = self.records[eid]
            if mode == "update" and rec.acked is ABSENT:
                continue  # keep update-mode upserts to existing entities: their state is then exact
            counter = self.serial * 1000 + rng.randrange(1000)
            entity = {"id": eid, "type": "Sensor",
                      "counter": {"type": "Property", "value": counter},
                      "batch": {"type": "Property", "value": batch_tag}}
            if mode == "replace":
                entity["payload"] = {"type": "Property", "value": "x" * rng.randrange(0, 300)}
            body.append(entity)
            states[eid] = (counter, batch_tag)
        invalid = rng.random() < 0.15
        if invalid:
            body.insert(rng.randrange(len(body) + 1),
                        {"id": "urn:ngsi-ld:Sensor:%s-bad" % self.tag, "type": "Sensor",
                         "counter": {"type": "Property"}})  # no value: this one fails alone
        if not states:
            return True
        for eid, state in states.items():
            self.records[eid].pending = [state]
        path = "/ngsi-ld/v1/entityOperations/upsert" + ("?options=update" if mode == "update" else "")
        status, data = self.post(conn, path, body)
        if status is None:
            return False
        if status in (201, 204) and not invalid:
            succeeded = set(states)
        elif status == 207 and invalid:
            try:
                succeeded = set(json.loads(data).get("success", []))
            except ValueError:
                succeeded = set()
            missing = set(states) - succeeded
            if missing:
                self.errors.append("upsert %s: 207 without %d valid entities in success, e.g. %s" %
                                   (batch_tag, len(missing), sorted(missing)[:3]))
        else:
            self.errors.append("upsert %s (%s, %d entities%s) -> %d %s" % (
                batch_tag, mode, len(body), ", one invalid" if invalid else "", status, data[:300]))
            succeeded = set()
        for eid, state in states.items():
            rec = self.records[eid]
            if eid in succeeded:
                rec.acked = state
                rec.acks += 1
            rec.pending = []
        self.acked_batches += 1
        return True

    def delete(self, conn, chosen):
        existing = [eid for eid in chosen if self.records[eid].acked is not ABSENT]
        if not existing:
            return True
        for eid in existing:
            self.records[eid].pending = [ABSENT]
        status, data = self.post(conn, "/ngsi-ld/v1/entityOperations/delete", existing)
        if status is None:
            return False
        if status != 204:
            self.errors.append("delete %s -> %d %s" % (existing, status, data[:300]))
        for eid in existing:
            rec = self.records[eid]
            if status == 204:
                rec.acked = ABSENT
                rec.acks += 1
            rec.pending = []
        self.acked_batches += 1
        return True


def state_of(server, eid):
    r = server.request("GET", "/ngsi-ld/v1/entities/%s?options=keyValues" % eid)
    if r.status == 404:
        return ABSENT, None
    if r.status != 200:
        return "error", "%d %s" % (r.status, r.text()[:200])
    body = r.json()
    return (body.get("counter"), body.get("batch")), None


def show(state):
    return "absent" if state is ABSENT else "counter=%s batch=%s" % state


def verify(t, server, records, label):
    bad = 0
    for eid, rec in sorted(records.items()):
        actual, error = state_of(server, eid)
        t.checks += 1
        if error:
            t.fail("%s: GET %s" % (label, eid), "200 or 404", error)
            bad += 1
            continue
        if actual not in rec.allowed():
            bad += 1
            if bad <= 15:
                t.fail("%s: %s after restart" % (label, eid),
                       "one of %s (last acknowledged first; %d acknowledged writes)" % (
                           [show(a) for a in rec.allowed()], rec.acks), show(actual))
    if bad > 15:
        t.fail("%s: %d more entities differ" % (label, bad - 15))
    return bad


def main():
    ap = test_arguments(__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    t = Checker("batch_crash_test (seed %d)" % seed)
    rng = random.Random(seed)
    server = Server(args.binary, keep=args.keep)
    records = {}
    try:
        server.start()
        probe = server.request("POST", "/ngsi-ld/v1/entityOperations/upsert", JSON, "[]")
        if probe.status in (404, 405):
            t.fail("batch upsert is not implemented by this binary", "400 for an empty batch", probe.status)
            return t.finish()
        current = {}  # the round's start time and errors

        def make_writers(round_no, stop):
            current.update(started=time.monotonic(), errors=[])
            return [Writer(server.port, round_no, i, records, stop, current["errors"], rng.randrange(1 << 30))
                    for i in range(args.threads)]

        def after_restart(round_no, writers):
            acked = sum(w.acked_batches for w in writers)  # none come after the kill
            for e in current["errors"][:5]:
                t.fail("round %d: %s" % (round_no, e))
            in_flight = sum(1 for r in records.values() if r.pending)
            bad = verify(t, server, records, "round %d" % round_no)
            t.step("round %d: %d batches acknowledged before kill -9 (%d entities in flight), %d entities "
                   "checked, %d wrong, %.1f s" % (round_no, acked, in_flight, len(records), bad,
                                                  time.monotonic() - current["started"]))
            t.expect(acked > 0, "round %d: some batches were acknowledged before the kill" % round_no)
            # settle what was in flight as the restarted server holds it
            for rec in records.values():
                if rec.pending:
                    actual, _ = state_of(server, rec.eid)
                    rec.acked = actual if actual in rec.allowed() else rec.acked
                    rec.pending = []

        kill9_rounds(t, server, args.rounds, rng, make_writers, after_restart)
        t.step("final clean restart")
        server.restart()
        verify(t, server, records, "after a clean restart")
    finally:
        stop_and_check(t, server)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
