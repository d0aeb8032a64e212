#!/usr/bin/env python3
"""Notifications over HTTPS: a receiver (http.server wrapped in TLS, in a thread) with a certificate
made for the test by the openssl command, trusted by the server through SSL_CERT_FILE (OpenSSL's
default verify paths):

- a certificate naming 127.0.0.1: delivered, over one kept-alive TLS connection;
- a certificate naming another host: the server refuses the connection (host name verified), the
  notification fails and the status says so.

    python3 subscription_https_test.py --binary build/release/citytwin
"""

import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, test_arguments  # noqa: E402
from subscription_test import entity, get_subscription, patch, prop, subscribe  # noqa: E402
from testkit import Receiver  # noqa: E402


def make_certificate(folder, name, san):
    cert, key = os.path.join(folder, name + ".pem"), os.path.join(folder, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=" + san, "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class TlsReceiver(Receiver):
    def __init__(self, cert, key):
        super().__init__()
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.connection_count = 0

    def url(self, path="/notify"):
        return "https://127.0.0.1:%d%s" % (self.port, path)

    def start(self):
        super().start()
        self.server.socket = self.context.wrap_socket(self.server.socket, server_side=True)
        return self


def main():
    args = test_arguments(__doc__.splitlines()[0]).parse_args()
    t = Checker("subscription_https_test")
    folder = tempfile.mkdtemp(prefix="citytwin-tls-")
    good = make_certificate(folder, "receiver", "IP:127.0.0.1")
    wrong = make_certificate(folder, "elsewhere", "DNS:elsewhere.example")
    # The server trusts both certificates as roots; only the host name tells them apart.
    bundle = os.path.join(folder, "trusted.pem")
    with open(bundle, "w") as out:
        for cert, _ in (good, wrong):
            with open(cert) as f:
                out.write(f.read())
    os.environ["SSL_CERT_FILE"] = bundle
    receiver = TlsReceiver(*good).start()
    impostor = TlsReceiver(*wrong).start()
    try:
        with Server(args.binary, keep=args.keep) as server:
            t.step("a receiver whose certificate names it")
            sid = subscribe(t, server, {"id": "urn:ngsi-ld:Subscription:tls", "entities": [{"type": "Valve"}],
                                        "notification": {"format": "keyValues", "endpoint": {"uri": receiver.url()}}}, "https")
            entity(t, server, "urn:ngsi-ld:Valve:1", "Valve", {"open": prop(True)})
            for i in range(5):
                patch(t, server, "urn:ngsi-ld:Valve:1", {"open": prop(i % 2 == 0)})
            got = receiver.wait_for(sid, 6)
            t.expect_equal(len(got), 6, "delivered over TLS")
            t.expect_equal(get_subscription(server, sid)["notification"].get("status"), "ok", "status ok")

            t.step("a receiver whose certificate names another host")
            bad = subscribe(t, server, {"id": "urn:ngsi-ld:Subscription:impostor", "entities": [{"type": "Valve"}],
                                        "notification": {"endpoint": {"uri": impostor.url()}}}, "impostor")
            patch(t, server, "urn:ngsi-ld:Valve:1", {"open": prop(False)})
            deadline = time.monotonic() + 10
            n = {}
            while time.monotonic() < deadline:
                n = get_subscription(server, bad)["notification"]
                if n.get("timesFailed", 0) >= 1:
                    break
                time.sleep(0.05)
            t.expect(n.get("timesFailed", 0) >= 1 and n.get("status") == "failed", "refused: the host name does not match",
                     "failed", n)
            t.expect_equal(impostor.notifications(), [], "nothing reached the impostor")
            t.expect("TLS handshake failed" in open(server.log_path).read(), "the log says why", "TLS handshake failed",
                     server.log_tail(5))
            if t.failures:
                print(server.log_tail())
    finally:
        receiver.stop()
        impostor.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
