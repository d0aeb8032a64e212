#!/usr/bin/env python3
"""History under kill -9: writer threads PATCH counters (observedAt spread over past days, so the
compactor, run every 20 ms, keeps turning days into blocks) and back-fill batches through POST
/temporal/entities/{id}/attrs; the server is killed with SIGKILL mid-stream and restarted on the
same data dir. Every acknowledged value must be in the history exactly once; a value whose request
was in flight may be there, but at most once. Several rounds, the data dir accumulating; checked
again after the restarted server has compacted.

    python3 history_crash_test.py --binary build/release/citytwin [--rounds 3] [--threads 4]
"""

import collections
import datetime
import http.client
import json
import os
import random
import sys
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, stop_and_check, test_arguments  # noqa: E402
from testkit import kill9_rounds, wait_until  # noqa: E402

JSON = {"Content-Type": "application/json"}
BASE = 1704067200000  # 2024-01-01T00:00:00Z
MINUTE = 60000


def iso(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Writer(threading.Thread):
    def __init__(self, port, eid, start_value, stop, seed):
        super().__init__(daemon=True)
        self.port, self.eid, self.stop, self.rng = port, eid, stop, random.Random(seed)
        self.next_value = start_value
        self.acked = set()
        self.in_flight = set()
        self.errors = []

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        while not self.stop.is_set():
            if self.rng.random() < 0.7:
                values = [self.next_value]
                body = {"n": {"type": "Property", "value": values[0], "observedAt": iso(BASE + values[0] * MINUTE)}}
                method, path = "PATCH", "/ngsi-ld/v1/entities/%s/attrs" % self.eid
            else:
                values = list(range(self.next_value, self.next_value + 50))
                body = {"n": [{"type": "Property", "value": v, "observedAt": iso(BASE + v * MINUTE)} for v in values]}
                method, path = "POST", "/ngsi-ld/v1/temporal/entities/%s/attrs" % self.eid
            self.next_value += len(values)
            self.in_flight = set(values)
            try:
                conn.request(method, path, body=json.dumps(body), headers=JSON)
                resp = conn.getresponse()
                resp.read()
            except (OSError, http.client.HTTPException):
                return  # the server died: what was in flight stays in flight
            if resp.status == 204:
                self.acked.update(values)
            else:
                self.errors.append("%s %s: %d" % (method, path, resp.status))
            self.in_flight = set()


def history_values(server, eid):
    """Every value of n in the history of eid, following Content-Range pages."""
    values, params = [], {"attrs": "n", "options": "temporalValues"}
    while True:
        r = server.request("GET", "/ngsi-ld/v1/temporal/entities/%s?%s" % (eid, urllib.parse.urlencode(params)))
        if r.status not in (200, 206):
            raise RuntimeError("history of %s: %r" % (eid, r))
        page = r.json().get("n", {}).get("values", [])
        values += [v for v, _ in page]
        if r.status == 200:
            return values
        params.update(timerel="after", timeAt=page[-1][1])


def verify(t, server, writers, label):
    for w in writers:
        counts = collections.Counter(history_values(server, w.eid))
        missing = sorted(w.acked - set(counts))
        duplicated = sorted(v for v, c in counts.items() if c > 1)
        unexpected = sorted(set(counts) - w.acked - w.settled)
        t.expect(not missing, "%s: %s lost no acknowledged value" % (label, w.eid), [], missing[:10])
        t.expect(not duplicated, "%s: %s has no duplicate" % (label, w.eid), [], duplicated[:10])
        t.expect(not unexpected, "%s: %s has only values that were sent" % (label, w.eid), [], unexpected[:10])


def main():
    ap = test_arguments(__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    t = Checker("history under kill -9")
    rng = random.Random(9)
    server = Server(args.binary, keep=args.keep,
                    extra_args=["--history-compact-interval-ms", "20", "--history-compact-grace-ms", "0"])
    writers = []
    try:
        server.start()
        for i in range(args.threads):
            r = server.request("POST", "/ngsi-ld/v1/entities", JSON, json_body={
                "id": "urn:ngsi-ld:Counter:%d" % i, "type": "Counter", "n": {"type": "Property", "value": -1}})
            t.expect(r.status == 201, "create counter %d" % i, 201, r)
        state = {}  # eid -> (next value, acked values, values that may be there)

        def make_writers(round_no, stop):
            writers = []
            for i in range(args.threads):
                eid = "urn:ngsi-ld:Counter:%d" % i
                next_value, acked, settled = state.get(eid, (0, set(), {-1}))
                w = Writer(server.port, eid, next_value, stop, rng.randrange(1 << 30))
                w.acked, w.settled = set(acked), set(settled)
                writers.append(w)
            return writers

        def after_restart(round_no, round_writers):
            writers[:] = round_writers
            for w in writers:
                for e in w.errors[:3]:
                    t.fail("round %d: %s" % (round_no, e))
                w.settled |= w.in_flight
            verify(t, server, writers, "round %d" % round_no)
            t.step("round %d: %d values acknowledged, %d in flight at the kill" %
                   (round_no, sum(len(w.acked) for w in writers), sum(len(w.in_flight) for w in writers)))
            for w in writers:
                # settle what was in flight: as the restarted server holds it
                there = set(history_values(server, w.eid))
                w.acked |= w.in_flight & there
                w.settled = {-1}
                state[w.eid] = (w.next_value, w.acked, w.settled)

        kill9_rounds(t, server, args.rounds, rng, make_writers, after_restart, write_for=(0.5, 1.2))

        def first_day_compacted():  # by the restarted server, from what the last round wrote
            r = server.request("GET", "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:Counter:0?attrs=n&lastN=1&timerel=before"
                               "&timeAt=" + iso(BASE + 1440 * MINUTE))
            return r.status == 200 and "-" in r.json()["n"][0]["instanceId"]

        t.expect(wait_until(first_day_compacted), "the first day was compacted into a block", "a block instance")
        verify(t, server, writers, "after compaction")
        server.restart()
        verify(t, server, writers, "after a clean restart")
    finally:
        stop_and_check(t, server)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
