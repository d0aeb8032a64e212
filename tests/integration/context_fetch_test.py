#!/usr/bin/env python3
"""Remote @context fetching, against a small HTTP server on loopback:

- an entity created with a Link header naming a served context -> 201, and it compacts back with
  that context (and expands to full IRIs without it); the context is fetched once and cached;
- the same context named inline in an application/ld+json body; a context that imports another;
- a context URL on a closed loopback port, one answering 404 and one answering too slowly -> 503
  LdContextNotAvailable, within a few seconds, and nothing stored.

    python3 context_fetch_test.py --binary build/release/citytwin
"""

import http.server
import json
import os
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, free_port, stop_and_check, test_arguments  # noqa: E402

TRAFFIC = {"@context": {
    "Road": "https://example.org/traffic#Road",
    "speed": "https://example.org/traffic#speed",
    "lanes": "https://example.org/traffic#lanes",
}}
# imports the one above, adds a term
EXTENDED = {"@context": ["{base}/ctx/traffic.jsonld", {"congestion": "https://example.org/traffic#congestion"}]}


class ContextServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port):
        super().__init__(("127.0.0.1", port), ContextHandler)
        self.hits = {}
        self.base = "http://127.0.0.1:%d" % port
        self.lock = threading.Lock()


class ContextHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        with self.server.lock:
            self.server.hits[self.path] = self.server.hits.get(self.path, 0) + 1
        if self.path == "/ctx/traffic.jsonld":
            return self.send_json(TRAFFIC)
        if self.path == "/ctx/extended.jsonld":
            return self.send_json(json.loads(json.dumps(EXTENDED).replace("{base}", self.server.base)))
        if self.path == "/ctx/slow.jsonld":
            time.sleep(6)
            return self.send_json(TRAFFIC)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def send_json(self, document):
        data = json.dumps(document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/ld+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def link(url):
    return '<%s>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"' % url


def closed_port():
    """A loopback port with nothing listening."""
    while True:
        port = free_port()
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port


def main():
    args = test_arguments(__doc__.split("\n\n")[0]).parse_args()
    t = Checker("context_fetch_test")
    contexts = ContextServer(free_port())
    threading.Thread(target=contexts.serve_forever, daemon=True).start()
    server = Server(args.binary, keep=args.keep)
    try:
        server.start()
        run(t, server, contexts)
    finally:
        stop_and_check(t, server)
        contexts.shutdown()
    return t.finish()


def run(t, server, contexts):
    base = contexts.base
    traffic = base + "/ctx/traffic.jsonld"
    json_link = {"Content-Type": "application/json", "Link": link(traffic)}

    t.step("create an entity with the served context in a Link header")
    entity = {"id": "urn:ngsi-ld:Road:fetch-1", "type": "Road", "speed": {"type": "Property", "value": 50}, "lanes": 2}
    r = server.request("POST", "/ngsi-ld/v1/entities", json_link, json.dumps(entity))
    t.expect_status(r, 201, "create with a remote context")
    t.expect(contexts.hits.get("/ctx/traffic.jsonld", 0) >= 1, "the context was fetched", ">= 1 fetch", contexts.hits)

    t.step("read it back with the same context: short names")
    r = server.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Road:fetch-1?options=keyValues", {"Link": link(traffic)})
    if t.expect_status(r, 200, "GET with the remote context"):
        t.expect_equal(r.json(), {"id": "urn:ngsi-ld:Road:fetch-1", "type": "Road", "speed": 50, "lanes": 2},
                       "compacted with the remote context")
        t.expect(r.header("Link") == link(traffic), "Link header of the answer", link(traffic), r.header("Link"))
    r = server.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Road:fetch-1?options=keyValues")
    if t.expect_status(r, 200, "GET with the core context"):
        t.expect_equal(r.json(), {"id": "urn:ngsi-ld:Road:fetch-1", "type": "https://example.org/traffic#Road",
                                  "https://example.org/traffic#speed": 50, "https://example.org/traffic#lanes": 2},
                       "expanded without the remote context")

    t.step("the context is cached: more requests naming it do not fetch it again")
    for i in range(3):
        server.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Road:fetch-1", {"Link": link(traffic)})
    t.expect(contexts.hits.get("/ctx/traffic.jsonld") == 1, "fetched exactly once", 1, contexts.hits.get("/ctx/traffic.jsonld"))
    r = server.request("GET", "/ngsi-ld/v1/jsonldContexts?details=true")
    if t.expect_status(r, 200, "GET /jsonldContexts?details=true"):
        cached = [c for c in r.json() if c.get("URL") == traffic]
        t.expect(len(cached) == 1 and cached[0].get("kind") == "Cached", "the fetched context is listed as Cached",
                 "one entry with kind Cached", r.json())

    t.step("the same context inline in an application/ld+json body")
    body = dict(entity, id="urn:ngsi-ld:Road:fetch-2", **{"@context": [traffic]})
    r = server.request("POST", "/ngsi-ld/v1/entities", {"Content-Type": "application/ld+json"}, json.dumps(body))
    t.expect_status(r, 201, "create with an inline remote context")
    r = server.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Road:fetch-2?options=keyValues", {"Link": link(traffic)})
    if t.expect_status(r, 200, "GET fetch-2"):
        t.expect_equal(r.json(), {"id": "urn:ngsi-ld:Road:fetch-2", "type": "Road", "speed": 50, "lanes": 2},
                       "inline remote context compacts back")

    t.step("a context that imports another one")
    extended = base + "/ctx/extended.jsonld"
    r = server.request("POST", "/ngsi-ld/v1/entities", {"Content-Type": "application/json", "Link": link(extended)},
                       json.dumps({"id": "urn:ngsi-ld:Road:fetch-3", "type": "Road", "speed": 30, "congestion": "low"}))
    t.expect_status(r, 201, "create with a context importing another")
    r = server.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Road:fetch-3?options=keyValues")
    if t.expect_status(r, 200, "GET fetch-3"):
        t.expect_equal(r.json(), {"id": "urn:ngsi-ld:Road:fetch-3", "type": "https://example.org/traffic#Road",
                                  "https://example.org/traffic#speed": 30,
                                  "https://example.org/traffic#congestion": "low"},
                       "terms of both contexts expanded")

    failing = [
        ("a closed loopback port", "http://127.0.0.1:%d/context.jsonld" % closed_port(), 3.0),
        ("a URL answering 404", base + "/ctx/missing.jsonld", 3.0),
        ("a server slower than the 2 s timeout", base + "/ctx/slow.jsonld", 4.5),
    ]
    for n, (what, url, limit) in enumerate(failing):
        t.step("a context on %s: 503 LdContextNotAvailable" % what)
        eid = "urn:ngsi-ld:Road:unavailable-%d" % n
        started = time.monotonic()
        r = server.request("POST", "/ngsi-ld/v1/entities", {"Content-Type": "application/json", "Link": link(url)},
                           json.dumps({"id": eid, "type": "Road", "speed": 10}))
        elapsed = time.monotonic() - started
        t.expect_problem(r, 503, "LdContextNotAvailable", "context on %s" % what)
        t.expect(elapsed < limit, "context on %s: answered in time" % what, "< %.1f s" % limit, "%.2f s" % elapsed)
        r = server.request("GET", "/ngsi-ld/v1/entities/" + eid)
        t.expect_status(r, 404, "context on %s: nothing stored" % what)

    t.step("the same for a read and for an inline context")
    url = "http://127.0.0.1:%d/other.jsonld" % closed_port()
    r = server.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Road:fetch-1", {"Link": link(url)})
    t.expect_problem(r, 503, "LdContextNotAvailable", "GET with an unavailable context")
    r = server.request("POST", "/ngsi-ld/v1/entities", {"Content-Type": "application/ld+json"},
                       json.dumps({"@context": url, "id": "urn:ngsi-ld:Road:unavailable-x", "type": "Road"}))
    t.expect_problem(r, 503, "LdContextNotAvailable", "inline unavailable context")

    t.step("the server is healthy, with exactly the three entities")
    h = server.request("GET", "/health")
    if t.expect_status(h, 200, "/health"):
        t.expect(h.json().get("entities") == 3, "entity count", 3, h.json().get("entities"))


if __name__ == "__main__":
    sys.exit(main())
