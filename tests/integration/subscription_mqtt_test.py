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

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, free_port, test_arguments  # noqa: E402
from subscription_test import CORE, entity, get_subscription, link, patch, prop, subscribe  # noqa: E402


# --------------------------------------------------------------------------------------------
# A mosquitto broker and an MQTT 3.1.1 subscriber
# --------------------------------------------------------------------------------------------

class Broker:
    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="citytwin-mqtt-")
        self.config = os.path.join(self.dir, "mosquitto.conf")
        with open(self.config, "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\n" % self.port)
        self.proc = None

    def start(self):
        log = open(os.path.join(self.dir, "mosquitto.log"), "ab")
        self.proc = subprocess.Popen(["mosquitto", "-c", self.config], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise RuntimeError("mosquitto did not start on port %d" % self.port)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def encode_length(n):
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def mqtt_string(text):
    data = text.encode("utf-8")
    return struct.pack("!H", len(data)) + data


class Subscriber:
    """Subscribes to one topic filter and collects (topic, qos, payload) of every PUBLISH."""

    def __init__(self, port, topic_filter, qos=1):
        self.messages = []
        self.cond = threading.Condition()
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        client_id = "ct-test-%d" % os.getpid()
        variable = mqtt_string("MQTT") + bytes([4, 0x02]) + struct.pack("!H", 60)  # level 4, clean session
        payload = mqtt_string(client_id)
        self._send(0x10, variable + payload)
        kind, body = self._read_packet()
        if kind >> 4 != 2 or body[1] != 0:
            raise RuntimeError("CONNACK refused: %r" % body)
        self._send(0x82, struct.pack("!H", 1) + mqtt_string(topic_filter) + bytes([qos]))
        kind, body = self._read_packet()
        if kind >> 4 != 9 or body[2] > 2:
            raise RuntimeError("SUBACK refused: %r" % body)
        self.sock.settimeout(None)
        threading.Thread(target=self._run, daemon=True).start()

    def _send(self, first_byte, body):
        self.sock.sendall(bytes([first_byte]) + encode_length(len(body)) + body)

    def _read_exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("the broker closed the connection")
            data += chunk
        return data

    def _read_packet(self):
        first = self._read_exact(1)[0]
        length, shift = 0, 0
        while True:
            byte = self._read_exact(1)[0]
            length += (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        return first, self._read_exact(length)

    def _run(self):
        try:
            while True:
                first, body = self._read_packet()
                if first >> 4 != 3:  # not a PUBLISH
                    continue
                qos = (first >> 1) & 3
                topic_length = struct.unpack("!H", body[:2])[0]
                topic = body[2:2 + topic_length].decode("utf-8")
                rest = body[2 + topic_length:]
                if qos:
                    packet_id, rest = rest[:2], rest[2:]
                    self._send(0x40, packet_id)  # PUBACK
                with self.cond:
                    self.messages.append((topic, qos, json.loads(rest.decode("utf-8"))))
                    self.cond.notify_all()
        except (OSError, ConnectionError, ValueError):
            pass

    def wait_for(self, count, timeout=10):
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.messages) < count and time.monotonic() < deadline:
                self.cond.wait(max(0.01, deadline - time.monotonic()))
            return list(self.messages)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def subscriber_when_up(port, topic_filter, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return Subscriber(port, topic_filter)
        except (OSError, RuntimeError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


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
