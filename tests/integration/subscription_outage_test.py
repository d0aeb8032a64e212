#!/usr/bin/env python3
"""A receiver that goes down and comes back gets every notification made meanwhile, in order, once;
the subscription's status shows the failure and then the recovery.

The receiver (http.server on loopback) is stopped, listening socket and open connections closed, for
--outage seconds (30 by default, the acceptance criterion) while an entity is
updated 20 times; the server keeps retrying with exponential backoff (at most 5 s apart); the
receiver is started again on the same port.

    python3 subscription_outage_test.py --binary build/release/citytwin [--outage 30]
"""

import os
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, test_arguments  # noqa: E402
from subscription_test import entity, get_subscription, patch, prop, subscribe  # noqa: E402
from testkit import Receiver  # noqa: E402

UPDATES = 20
MAX_RETRY_DELAY = 5.0  # the server's backoff ceiling (DeliveryOptions::max_retry)


def main():
    ap = test_arguments(__doc__.splitlines()[0])
    ap.add_argument("--outage", type=float, default=30.0, help="seconds the receiver stays down")
    args = ap.parse_args()
    t = Checker("subscription_outage_test")
    receiver = Receiver().start()
    try:
        with Server(args.binary, keep=args.keep) as server:
            sid = subscribe(t, server, {"id": "urn:ngsi-ld:Subscription:outage", "entities": [{"type": "Counter"}],
                                        "notification": {"format": "keyValues", "endpoint": {"uri": receiver.url()}}}, "outage")
            entity(t, server, "urn:ngsi-ld:Counter:1", "Counter", {"n": prop(0)})
            t.expect(len(receiver.wait_for(sid, 1)) == 1, "delivered while the receiver is up", 1, len(receiver.notifications(sid)))

            t.step("receiver down for %.0f s, %d updates meanwhile" % (args.outage, UPDATES))
            receiver.stop()
            down_at = time.monotonic()
            for i in range(1, UPDATES + 1):
                patch(t, server, "urn:ngsi-ld:Counter:1", {"n": prop(i)})
                time.sleep(args.outage / UPDATES / 2)
            deadline = time.monotonic() + 10
            n = {}
            while time.monotonic() < deadline:
                n = get_subscription(server, sid)["notification"]
                if n.get("status") == "failed":
                    break
                time.sleep(0.1)
            t.expect_equal(n.get("status"), "failed", "status: failed while the receiver is down")
            t.expect(n.get("timesFailed", 0) >= 1 and "lastFailure" in n, "timesFailed and lastFailure", ">= 1, set", n)
            time.sleep(max(0.0, args.outage - (time.monotonic() - down_at)))

            t.step("receiver back")
            receiver.start()
            back_at = time.monotonic()
            got = receiver.wait_for(sid, 1 + UPDATES, timeout=MAX_RETRY_DELAY + 15)
            took = time.monotonic() - back_at
            values = [e["n"] for r in got for e in r["body"]["data"]]
            t.expect_equal(values, list(range(0, UPDATES + 1)), "every notification, in order")
            ids = [r["body"]["id"] for r in got]
            t.expect_equal(len(set(ids)), len(ids), "each once")
            t.expect(took <= MAX_RETRY_DELAY + 5, "caught up within the backoff ceiling", "<= %.0f s" % (MAX_RETRY_DELAY + 5), "%.1f s" % took)
            time.sleep(0.5)
            t.expect_equal(len(receiver.notifications(sid)), 1 + UPDATES, "nothing more")
            n = get_subscription(server, sid)["notification"]
            t.expect_equal(n.get("status"), "ok", "status: ok again")
            t.expect(n.get("lastSuccess", "") > n.get("lastFailure", "~"), "lastSuccess after lastFailure", "later", n)
            t.expect(n.get("timesSent", 0) == 1 + UPDATES + n.get("timesFailed", 0), "timesSent = successes + failures",
                     1 + UPDATES + n.get("timesFailed", 0), n.get("timesSent"))
            print("    (%d failed attempts during the outage; caught up %.1f s after the receiver came back)" %
                  (n.get("timesFailed", 0), took))
            if t.failures:
                print(server.log_tail())
    finally:
        receiver.stop()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
