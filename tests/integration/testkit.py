"""Shared fixtures of the integration tests (python3 standard library only):

- Receiver: an HTTP server on loopback that records what is POSTed to it (a notification
  receiver, a webhook), can answer with another status, go down, come back, or hang;
- Broker: a private mosquitto on a free loopback port; publish() with mosquitto_pub; Subscriber:
  a minimal MQTT 3.1.1 subscriber (CONNECT, SUBSCRIBE, PUBLISH QoS 0 and 1, PUBACK);
- kill9_rounds(): the kill -9 / restart loop of the crash tests;
- wait_until(): polling for a condition with a deadline (never a bare sleep).
"""

import http.server
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time

from ngsi_session import free_port

WAIT = 10.0  # seconds a notification may take in these tests (it takes milliseconds)


def wait_until(condition, timeout=10.0, interval=0.05):
    """Polls `condition` until it returns something true, or the deadline; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    return condition()


# --------------------------------------------------------------------------------------------
# An HTTP receiver
# --------------------------------------------------------------------------------------------

class Receiver:
    """An HTTP server on a loopback port that records every request POSTed to it.

    stop() closes the listening socket and every open connection (a receiver that went down);
    start() again serves on the same port. `status` is what it answers. A POST to a path in
    `hang_paths` gets no answer until stop() (a receiver that hangs)."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.status = 200
        self.received = []  # dicts: path, headers (lower-case names), body (parsed JSON), at (time.time())
        self.cond = threading.Condition()
        self.server = None
        self.connections = set()
        self.hang_paths = set()
        self.hung = 0  # requests that got no answer
        self.release = threading.Event()

    def url(self, path="/notify"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                with receiver.cond:
                    receiver.connections.add(self.connection)

            def finish(self):
                with receiver.cond:
                    receiver.connections.discard(self.connection)
                super().finish()

            def log_message(self, *args):
                pass

            def do_POST(self):
                data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path in receiver.hang_paths:
                    with receiver.cond:
                        receiver.hung += 1
                    receiver.release.wait()
                    self.close_connection = True
                    return
                try:
                    body = json.loads(data.decode("utf-8"))
                except ValueError:
                    body = data
                status = receiver.status
                at = time.time()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                self.wfile.flush()
                # Recorded only once answered: a test that stops the receiver as soon as it has seen a
                # notification must not cut the answer off (the server would rightly deliver it again).
                if status < 300:
                    with receiver.cond:
                        receiver.received.append({"path": self.path, "at": at, "body": body,
                                                  "headers": {k.lower(): v for k, v in self.headers.items()}})
                        receiver.cond.notify_all()

        class Threading(http.server.ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 128  # not 5: a burst of new connections would wait for SYN retries (1 s)

        self.release.clear()
        self.server = Threading(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server is None:
            return
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        with self.cond:
            for c in list(self.connections):
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.connections.clear()
        self.server = None

    def notifications(self, subscription_id=None):
        with self.cond:
            return [r for r in self.received
                    if subscription_id is None or (isinstance(r["body"], dict) and r["body"].get("subscriptionId") == subscription_id)]

    def wait_for(self, subscription_id, count, timeout=WAIT):
        """Waits until `count` notifications of the subscription arrived; returns them (maybe fewer)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = [r for r in self.received if isinstance(r["body"], dict) and r["body"].get("subscriptionId") == subscription_id]
                if len(got) >= count or time.monotonic() >= deadline:
                    return got
                self.cond.wait(max(0.01, deadline - time.monotonic()))


# --------------------------------------------------------------------------------------------
# A mosquitto broker, mosquitto_pub, and an MQTT 3.1.1 subscriber
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


def publish(broker, topic, payload):
    """Publishes one message with mosquitto_pub (QoS 0) to the broker."""
    subprocess.run(["mosquitto_pub", "-p", str(broker.port), "-t", topic, "-m", payload], check=True, timeout=10)


# --------------------------------------------------------------------------------------------
# The kill -9 / restart loop
# --------------------------------------------------------------------------------------------

def kill9_rounds(t, server, rounds, rng, make_writers, after_restart, write_for=(0.5, 1.5)):
    """Per round: make_writers(round_no, stop) returns threads that write until `stop` is set; they
    start, write for a random while (rng.uniform(*write_for) seconds: how much is written is what
    varies, nothing waits for a condition here), then the server is killed with SIGKILL, the writers
    are stopped and joined (a writer still alive is a failure), the server starts again on the same
    data dir and port, and after_restart(round_no, writers) checks what it holds."""
    for round_no in range(1, rounds + 1):
        stop = threading.Event()
        writers = make_writers(round_no, stop)
        for w in writers:
            w.start()
        time.sleep(rng.uniform(*write_for))
        server.kill9()
        stop.set()
        for w in writers:
            w.join(15)
            t.expect(not w.is_alive(), "round %d: writer thread ended after the kill" % round_no)
        server.start(port=server.port)
        after_restart(round_no, writers)
