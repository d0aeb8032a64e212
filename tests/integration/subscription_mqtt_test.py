#!/usr/bin/env python3
"""Notifications to an MQTT endpoint (mqtt://host:port/topic), through a real mosquitto broker that
the test starts on a free loopback port, read by a minimal MQTT 3.1.1 subscriber written here with
the standard library (CONNECT, SUBSCRIBE, PUBLISH with QoS 0 and 1, PUBACK):

- the message: topic from the URI, payload {"metadata": {Content-Type, Link, receiverInfo},
  "body": Notification}, QoS from notifierInfo MQTT-QoS;
- the broker goes down while the entity changes, then comes back: the notifications made
  meanwhile arrive, and the subscription's status showed the failure.

    python3 subscription_mqtt_test.py --binary build/release/citytwin
"""

import os
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, test_arguments  # noqa: E402
from testkit import Broker, Subscriber, subscriber_when_up  # noqa: E402
from subscription_test import CORE, entity, get_subscription, link, patch, prop, subscribe  # noqa: E402


# --------------------------------------------------------------------------------------------

def main():
    args = test_arguments(__doc__.splitlines()[0]).parse_args()
    t = Checker("subscription_mqtt_test")
    broker = Broker().start()
    subscriber = None
    try:
        with Server(args.binary, keep=args.keep) as server:
            t.step("notifications published to the topic of the URI")
            subscriber = Subscriber(broker.port, "city/#")
            sid = subscribe(t, server, {
                "id": "urn:ngsi-ld:Subscription:mqtt", "entities": [{"type": "Hydrant"}],
                "notification": {"format": "keyValues", "endpoint": {
                    "uri": "mqtt://127.0.0.1:%d/city/hydrants" % broker.port,
                    "receiverInfo": [{"key": "X-Source", "value": "citytwin"}],
                    "notifierInfo": [{"key": "MQTT-QoS", "value": "1"}]}}}, "mqtt")
            entity(t, server, "urn:ngsi-ld:Hydrant:1", "Hydrant", {"pressure": prop(3.5)}, headers={"NGSILD-Tenant": "water"})
            entity(t, server, "urn:ngsi-ld:Hydrant:1", "Hydrant", {"pressure": prop(4.0)})
            patch(t, server, "urn:ngsi-ld:Hydrant:1", {"pressure": prop(4.2)})
            got = subscriber.wait_for(2)
            if t.expect(len(got) == 2, "two messages (the other tenant's hydrant is not subscribed to)", 2, len(got)):
                topic, qos, payload = got[0]
                t.expect_equal(topic, "city/hydrants", "topic")
                t.expect_equal(qos, 1, "QoS 1 from notifierInfo")
                t.expect_equal(payload.get("metadata"), {"Content-Type": "application/json", "Link": link(CORE),
                                                         "X-Source": "citytwin"}, "metadata: headers and receiverInfo")
                body = payload.get("body", {})
                t.expect_equal(body.get("type"), "Notification", "body: the notification")
                t.expect_equal(body.get("subscriptionId"), sid, "subscriptionId")
                t.expect_equal([m[2]["body"]["data"][0]["pressure"] for m in got], [4.0, 4.2], "data in order")
            n = get_subscription(server, sid)["notification"]
            t.expect_equal([n.get("timesSent"), n.get("timesFailed"), n.get("status")], [2, 0, "ok"],
                           "status after delivery (nothing failed while the client was still connecting)")

            t.step("the broker goes down and comes back")
            subscriber.close()
            broker.stop()
            for v in (5.0, 5.1, 5.2):
                patch(t, server, "urn:ngsi-ld:Hydrant:1", {"pressure": prop(v)})
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and get_subscription(server, sid)["notification"].get("status") != "failed":
                time.sleep(0.1)
            n = get_subscription(server, sid)["notification"]
            t.expect_equal(n.get("status"), "failed", "status failed while the broker is down")
            time.sleep(2)
            broker.start()
            subscriber = subscriber_when_up(broker.port, "city/#")
            got = subscriber.wait_for(3, timeout=40)
            t.expect_equal([m[2]["body"]["data"][0]["pressure"] for m in got], [5.0, 5.1, 5.2],
                           "what changed meanwhile arrives, in order")
            n = get_subscription(server, sid)["notification"]
            t.expect_equal(n.get("status"), "ok", "status ok again")
            if t.failures:
                print(server.log_tail())
    finally:
        if subscriber:
            subscriber.close()
        broker.cleanup()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
