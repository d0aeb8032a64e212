#!/usr/bin/env python3
"""The WebSocket stream of a subscription, GET /ngsi-ld/v1/subscriptions/{id}/ws, read by a minimal
RFC 6455 client written here with the standard library (handshake, frames, ping/pong, close):

- a subscription whose endpoint is urn:citytwin:websocket streams each notification as one text
  message, the Notification with its @context inline; two listeners both get it;
- a webhook subscription streams too, besides its delivery to the receiver;
- the tenant from the `tenant` query parameter; an unknown subscription or tenant is refused with a
  404 problem and no upgrade; a plain GET is a 400;
- deleting the subscription closes the stream (close frame 1000).

    python3 subscription_websocket_test.py --binary build/release/citytwin
"""

import base64
import hashlib
import json
import os
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, parse_raw_response, test_arguments  # noqa: E402
from subscription_test import CORE, Receiver, entity, get_subscription, patch, prop, subscribe, write  # noqa: E402

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WebSocket:
    """A client connection; raises ConnectionRefusedError with the HTTP answer if not upgraded."""

    def __init__(self, port, path, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, port, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            head += chunk
        head, _, self.buffer = head.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        if not lines[0].startswith("HTTP/1.1 101"):
            rest = self.buffer
            try:
                while True:
                    chunk = self.sock.recv(4096)
                    if not chunk:
                        break
                    rest += chunk
            except OSError:
                pass
            self.sock.close()
            raise ConnectionRefusedError(parse_raw_response(head + b"\r\n\r\n" + rest))
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        expected = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != expected:
            raise ValueError("bad Sec-WebSocket-Accept %r" % headers.get("sec-websocket-accept"))

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _send(self, opcode, payload=b""):
        mask = os.urandom(4)
        header = bytes([0x80 | opcode])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", len(payload))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def receive(self, timeout=10):
        """The next message: ("text", str) or ("close", code); answers pings on the way."""
        self.sock.settimeout(timeout)
        message = b""
        while True:
            b0, b1 = self._read(2)
            opcode, length = b0 & 0x0F, b1 & 0x7F
            if length == 126:
                length = struct.unpack("!H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._read(8))[0]
            if b1 & 0x80:
                raise ValueError("a server frame must not be masked")
            payload = self._read(length)
            if opcode == 9:
                self._send(10, payload)
                continue
            if opcode == 8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                return ("close", code)
            message += payload
            if b0 & 0x80:
                return ("text", message.decode("utf-8"))

    def notification(self, timeout=10):
        kind, value = self.receive(timeout)
        if kind != "text":
            raise ConnectionError("expected a message, got %s %s" % (kind, value))
        return json.loads(value)

    def close(self):
        try:
            self._send(8, struct.pack("!H", 1000))
            self.sock.close()
        except OSError:
            pass


def main():
    args = test_arguments(__doc__.splitlines()[0]).parse_args()
    t = Checker("subscription_websocket_test")
    receiver = Receiver().start()
    sockets = []
    try:
        with Server(args.binary, keep=args.keep) as server:
            ws_path = "/ngsi-ld/v1/subscriptions/%s/ws"

            t.step("a WebSocket-only subscription, two listeners")
            sid = subscribe(t, server, {"id": "urn:ngsi-ld:Subscription:browser", "entities": [{"type": "Bus"}],
                                        "notification": {"format": "keyValues", "endpoint": {"uri": "urn:citytwin:websocket"}}},
                            "websocket only")
            first = WebSocket(server.port, ws_path % sid)
            second = WebSocket(server.port, ws_path % sid)
            sockets += [first, second]
            entity(t, server, "urn:ngsi-ld:Bus:1", "Bus", {"speed": prop(30)})
            patch(t, server, "urn:ngsi-ld:Bus:1", {"speed": prop(35)})
            for name, ws in (("first", first), ("second", second)):
                got = [ws.notification(), ws.notification()]
                t.expect_equal([n["data"] for n in got],
                               [[{"id": "urn:ngsi-ld:Bus:1", "type": "Bus", "speed": 30}], [{"id": "urn:ngsi-ld:Bus:1", "type": "Bus", "speed": 35}]],
                               "%s listener: both notifications, in order" % name)
                t.expect_equal([n.get("@context") for n in got], [CORE, CORE], "%s listener: @context inline" % name)
                t.expect_equal({n.get("type") for n in got}, {"Notification"}, "%s listener: Notification objects" % name)
                t.expect_equal({n.get("subscriptionId") for n in got}, {sid}, "%s listener: subscriptionId" % name)
            n = get_subscription(server, sid)["notification"]
            t.expect_equal(n.get("timesSent"), 2, "timesSent counts what was streamed")

            t.step("a webhook subscription streams too; tenant from the query")
            tenant = {"NGSILD-Tenant": "transit"}
            hook = subscribe(t, server, {"id": "urn:ngsi-ld:Subscription:hook", "entities": [{"type": "Bus"}],
                                         "notification": {"format": "keyValues", "endpoint": {"uri": receiver.url()}}},
                             "webhook", headers=tenant)
            streamed = WebSocket(server.port, ws_path % hook + "?tenant=transit")
            sockets.append(streamed)
            entity(t, server, "urn:ngsi-ld:Bus:9", "Bus", {"speed": prop(50)}, headers=tenant)
            t.expect_equal(streamed.notification()["data"], [{"id": "urn:ngsi-ld:Bus:9", "type": "Bus", "speed": 50}], "streamed")
            got = receiver.wait_for(hook, 1)
            t.expect_equal([r["body"]["data"] for r in got], [[{"id": "urn:ngsi-ld:Bus:9", "type": "Bus", "speed": 50}]],
                           "and delivered to the webhook")

            t.step("refusals")
            for path, what in ((ws_path % hook, "the subscription is in another tenant"),
                               (ws_path % "urn:ngsi-ld:Subscription:none", "no such subscription"),
                               ("/ngsi-ld/v1/subscriptions/%s/other" % sid, "not a stream")):
                try:
                    WebSocket(server.port, path).close()
                    t.expect(False, "refused: " + what, "404", "101")
                except ConnectionRefusedError as e:
                    status, _, body = e.args[0]
                    t.expect_equal(status, 404, "refused: " + what)
                    t.check_problem_body(json.loads(body), 404, "ResourceNotFound", "refused: " + what)
            r = server.request("GET", ws_path % sid)
            t.expect_problem(r, 400, "BadRequestData", "a plain GET of the stream")

            t.step("deleting the subscription closes its streams")
            write(t, server, "DELETE", "/ngsi-ld/v1/subscriptions/%s" % sid, what="delete")
            for name, ws in (("first", first), ("second", second)):
                try:
                    kind, code = ws.receive(timeout=5)
                except (OSError, ConnectionError) as e:
                    kind, code = "error", str(e)
                t.expect_equal([kind, code], ["close", 1000], "%s listener closed normally" % name)
            if t.failures:
                print(server.log_tail())
    finally:
        for ws in sockets:
            ws.close()
        receiver.stop()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
