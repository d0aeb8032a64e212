#!/usr/bin/env python3
"""The console's live stream, GET /city/v1/live (src/live/live_stream.hpp), read with the minimal
WebSocket client of subscription_websocket_test.py:

- a hello names the server's epoch and the last change sequence; changes come as keyValues entities;
- the client's filter keeps only the types it names, and located entities within its bbox (types in
  "everywhere" and entities without a location pass anywhere); a deleted entity comes with deletedAt;
- widening the filter replays the newest state of what the client missed outside the old one;
- a client that reconnects with its epoch and sequence gets what changed meanwhile at its first
  filter; another epoch gets a reset; a bad filter an error (the connection stays); a bad `since`
  is refused before the upgrade;
- tenants are kept apart.

    python3 live_stream_test.py --binary build/release/citytwin
"""

import json
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, test_arguments  # noqa: E402
from subscription_test import entity, patch, prop, write  # noqa: E402
from subscription_websocket_test import WebSocket  # noqa: E402

LIVE = "/city/v1/live"
BEIJING = [116.40, 39.90]
SHANGHAI = [121.47, 31.23]


def geo(point):
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": point}}


class Stream:
    """A live stream connection that remembers the highest sequence it saw."""

    def __init__(self, port, query=""):
        self.ws = WebSocket(port, LIVE + query)
        self.seq = 0

    def next(self, timeout=10):
        m = self.ws.notification(timeout)
        self.seq = max(self.seq, m.get("seq", 0))
        return m

    def send(self, message):
        self.ws._send(1, (message if isinstance(message, str) else json.dumps(message)).encode())

    def until(self, kind, timeout=10):
        """Messages up to and including the first of type `kind`."""
        got = []
        while True:
            m = self.next(timeout)
            got.append(m)
            if m["type"] == kind:
                return got

    def changes_until(self, done, timeout=10):
        """Entity states from "changes" messages until done(states) is true."""
        states = []
        while not done(states):
            m = self.next(timeout)
            if m["type"] == "changes":
                states += m["data"]
        return states

    def close(self):
        self.ws.close()


def ids(states):
    return [s["id"] for s in states]


def main():
    args = test_arguments(__doc__.splitlines()[0]).parse_args()
    t = Checker("live_stream_test")
    with Server(args.binary, keep=args.keep) as server:
        a, b, depot, car = ("urn:ngsi-ld:Bus:a", "urn:ngsi-ld:Bus:b", "urn:ngsi-ld:Depot:1", "urn:ngsi-ld:Car:1")
        entity(t, server, a, "Bus", {"speed": prop(10), "location": geo(BEIJING)})
        entity(t, server, b, "Bus", {"speed": prop(10), "location": geo(SHANGHAI)})
        entity(t, server, depot, "Depot", {"buses": prop(5)})
        entity(t, server, car, "Car", {"speed": prop(10), "location": geo(BEIJING)})

        t.step("hello, then changes filtered by type and bounds")
        s = Stream(server.port)
        hello = s.next()
        t.expect_equal(hello["type"], "hello", "the first message is a hello")
        t.expect(len(hello.get("epoch", "")) == 16 and isinstance(hello.get("seq"), int), "it names the epoch and sequence",
                 actual=hello)
        epoch = hello["epoch"]
        s.send({"types": ["Bus", "Depot"], "bbox": [116, 39.5, 117, 40.5]})
        ack = s.until("filter")
        t.expect_equal([ack[-1]["replayed"], len(ack)], [0, 1], "acknowledged, nothing to replay")
        patch(t, server, b, {"speed": prop(11)})   # outside the bounds
        patch(t, server, car, {"speed": prop(11)})  # a type not asked for
        patch(t, server, a, {"speed": prop(12)})
        patch(t, server, depot, {"buses": prop(6)})  # no location: anywhere
        got = s.changes_until(lambda st: depot in ids(st))
        t.expect_equal([(x["id"], x.get("speed", x.get("buses"))) for x in got], [(a, 12), (depot, 6)],
                       "only the bus inside the bounds and the depot, in order, as keyValues")
        t.expect_equal(got[0].get("location"), {"type": "Point", "coordinates": BEIJING}, "with its location")

        t.step("widening the bounds replays what was missed outside them")
        s.send({"types": ["Bus", "Depot"], "bbox": [110, 30, 125, 41]})
        msgs = s.until("filter")
        replayed = [x for m in msgs if m["type"] == "changes" for x in m["data"]]
        t.expect_equal([(x["id"], x["speed"]) for x in replayed], [(b, 11)], "the other bus's newest state")
        t.expect_equal(msgs[-1]["replayed"], 1, "counted in the acknowledgement")
        s.send({"types": ["Bus"], "everywhere": ["Bus"], "bbox": [0, 0, 1, 1]})
        s.until("filter")
        patch(t, server, b, {"speed": prop(13)})
        t.expect_equal(ids(s.changes_until(lambda st: st)), [b], "a type streamed everywhere ignores the bounds")

        t.step("a deletion")
        write(t, server, "DELETE", "/ngsi-ld/v1/entities/%s" % a, what="delete bus a")
        gone = s.changes_until(lambda st: st)
        t.expect_equal([gone[0]["id"], gone[0]["type"], "deletedAt" in gone[0]], [a, "Bus", True], "id, type and deletedAt")

        t.step("reconnecting with the epoch and sequence catches up")
        since = s.seq
        s.close()
        patch(t, server, b, {"speed": prop(14)})
        patch(t, server, depot, {"buses": prop(7)})
        r = Stream(server.port, "?epoch=%s&since=%d" % (epoch, since))
        t.expect_equal(r.next()["type"], "hello", "hello again")
        r.send({"types": ["Bus"]})
        # Replayed, or sent as it is consumed if the stream had not consumed it yet: either way, once.
        got = r.changes_until(lambda st: (b, 14) in [(x["id"], x.get("speed")) for x in st])
        t.expect_equal([(x["id"], x["speed"]) for x in got], [(b, 14)], "the bus's change while away; not the depot's type")
        r.send({"types": ["Bus", "Depot"]})
        got = r.changes_until(lambda st: depot in ids(st))
        t.expect_equal([x["buses"] for x in got], [7], "the depot's, once its type is asked for")
        r.close()

        t.step("another epoch: reset; a bad filter: error; a bad since: refused")
        x = Stream(server.port, "?epoch=0123456789abcdef&since=1")
        x.next()
        x.send({})
        t.expect_equal(x.until("reset")[-1]["type"], "reset", "a reset")
        x.send({"bbox": [1, 2]})
        t.expect("bbox" in x.until("error")[-1]["detail"], "an error naming bbox")
        x.send("not json")
        x.until("error")
        patch(t, server, b, {"speed": prop(15)})
        t.expect_equal(ids(x.changes_until(lambda st: st)), [b], "the connection stays, with its filter")
        x.close()
        try:
            WebSocket(server.port, LIVE + "?epoch=%s&since=soon" % epoch).close()
            t.expect(False, "a bad since is refused", "400", "101")
        except ConnectionRefusedError as e:
            t.expect_equal(e.args[0][0], 400, "a bad since is refused with 400")

        t.step("tenants are kept apart")
        other = Stream(server.port, "?tenant=other")
        other.next()
        patch(t, server, b, {"speed": prop(16)})
        entity(t, server, "urn:ngsi-ld:Bus:z", "Bus", {"speed": prop(1)}, headers={"NGSILD-Tenant": "other"})
        t.expect_equal(ids(other.changes_until(lambda st: st)), ["urn:ngsi-ld:Bus:z"], "only its own tenant's")
        other.close()
        if t.failures:
            print(server.log_tail())
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
