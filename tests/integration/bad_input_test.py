#!/usr/bin/env python3
"""Bad input the session files cannot send: invalid UTF-8, JSON nested 64/65 deep, a body over
--body-limit, bytes that are not HTTP, a truncated body, an oversized header. Each must be
answered with the right status and a problem body, the server must stay healthy, and the stored
state must not change (checked again after a restart).

    python3 bad_input_test.py --binary build/release/citytwin
"""

import json
import os
import socket
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, parse_raw_response, send_raw, stop_and_check, test_arguments  # noqa: E402

BODY_LIMIT = 4096
ENTITY_ID = "urn:ngsi-ld:Device:bad-input-1"
ENTITY = {
    "id": ENTITY_ID,
    "type": "Device",
    "name": {"type": "Property", "value": "sensor one"},
    "batteryLevel": {"type": "Property", "value": 0.75},
}
JSON = {"Content-Type": "application/json"}


def nested(depth):
    """An entity body whose JSON nesting (objects and arrays) is exactly `depth` levels."""
    # the entity object is level 1; the concise attribute value is depth-1 nested arrays
    value = 1
    for _ in range(depth - 1):
        value = [value]
    return json.dumps({"id": "urn:ngsi-ld:Device:deep-%d" % depth, "type": "Device", "deep": value})


def json_depth(value):
    if isinstance(value, dict):
        return 1 + max((json_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((json_depth(v) for v in value), default=0)
    return 0


def raw_request(method, path, headers, body):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1"]
    lines += ["%s: %s" % kv for kv in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def main():
    args = test_arguments(__doc__.split("\n\n")[0]).parse_args()
    t = Checker("bad_input_test")
    server = Server(args.binary, extra_args=["--body-limit", str(BODY_LIMIT)], keep=args.keep)
    try:
        server.start()
        run(t, server)
    finally:
        stop_and_check(t, server)
    return t.finish()


def unchanged(t, server, what):
    """The server is healthy and the reference entity reads back as created."""
    h = server.request("GET", "/health")
    t.expect_status(h, 200, "%s: /health afterwards" % what)
    r = server.request("GET", "/ngsi-ld/v1/entities/" + ENTITY_ID)
    if t.expect_status(r, 200, "%s: entity still readable" % what):
        t.expect_equal(r.json(), ENTITY, "%s: entity unchanged" % what)


def run(t, server):
    t.step("create the reference entity")
    r = server.request("POST", "/ngsi-ld/v1/entities", JSON, json.dumps(ENTITY))
    t.expect_status(r, 201, "create reference entity")

    # ---- invalid UTF-8 -------------------------------------------------------------------
    bad_utf8 = {
        "lone 0xFF byte": b'{"id": "urn:ngsi-ld:Device:u1", "type": "Device", "name": "caf\xff"}',
        "truncated 2-byte sequence": b'{"id": "urn:ngsi-ld:Device:u2", "type": "Device", "name": "caf\xc3"}',
        "overlong encoding of /": b'{"id": "urn:ngsi-ld:Device:u3", "type": "Device", "name": "\xc0\xaf"}',
        "UTF-16 surrogate in UTF-8": b'{"id": "urn:ngsi-ld:Device:u4", "type": "Device", "name": "\xed\xa0\x80"}',
        "invalid byte in a key": b'{"id": "urn:ngsi-ld:Device:u5", "type": "Device", "na\xfeme": 1}',
        "invalid byte in the id": b'{"id": "urn:ngsi-ld:Device:\xff", "type": "Device"}',
    }
    for what, body in bad_utf8.items():
        t.step("POST an entity with invalid UTF-8 (%s)" % what)
        r = server.request("POST", "/ngsi-ld/v1/entities", JSON, body)
        t.expect_problem(r, 400, "BadRequestData", "invalid UTF-8 (%s)" % what)
    for n in range(1, 6):
        r = server.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Device:u%d" % n)
        t.expect_status(r, 404, "entity u%d with invalid UTF-8 was not created" % n)

    t.step("PATCH the reference entity with invalid UTF-8")
    r = server.request("PATCH", "/ngsi-ld/v1/entities/%s/attrs" % ENTITY_ID, JSON,
                       b'{"name": {"type": "Property", "value": "\xff\xfe"}}')
    t.expect_problem(r, 400, "BadRequestData", "PATCH /attrs with invalid UTF-8")
    r = server.request("PATCH", "/ngsi-ld/v1/entities/%s/attrs/name" % ENTITY_ID, JSON, b'{"value": "x\x80y"}')
    t.expect_problem(r, 400, "BadRequestData", "PATCH /attrs/name with invalid UTF-8")
    unchanged(t, server, "invalid UTF-8")

    t.step("an entity id made of percent-encoded invalid UTF-8: the problem body must still be valid UTF-8 JSON")
    r = server.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Device:%FF%FE")
    t.expect_problem(r, (400, 404), None, "GET an id with invalid UTF-8")
    r = server.request("GET", "/ngsi-ld/v1/entities/%s?attrs=na%%FFme" % ENTITY_ID)
    t.expect(r.status in (200, 400), "attrs= with invalid UTF-8: status", "200 or 400", r.status)
    try:
        json.loads(r.body.decode("utf-8"))
        t.expect(True, "attrs= with invalid UTF-8: valid UTF-8 JSON answer")
    except (UnicodeDecodeError, ValueError) as e:
        t.expect(False, "attrs= with invalid UTF-8: valid UTF-8 JSON answer", "JSON", "%s: %r" % (e, r.body[:200]))

    # ---- nesting depth -------------------------------------------------------------------
    for depth in (64, 65, 200):
        body = nested(depth)
        assert json_depth(json.loads(body)) == depth
        t.step("POST an entity nested %d deep" % depth)
        r = server.request("POST", "/ngsi-ld/v1/entities", JSON, body)
        if depth <= 64:
            t.expect_status(r, 201, "nesting %d is accepted" % depth)
            g = server.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Device:deep-%d?options=keyValues" % depth)
            if t.expect_status(g, 200, "nesting %d reads back" % depth):
                t.expect_equal(g.json(), json.loads(body), "nesting %d reads back unchanged" % depth)
        else:
            t.expect_problem(r, 400, "BadRequestData", "nesting %d" % depth)
            g = server.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Device:deep-%d" % depth)
            t.expect_status(g, 404, "nesting %d was not stored" % depth)
    t.step("a PATCH nested 65 deep")
    value = 1
    for _ in range(64):
        value = [value]
    r = server.request("PATCH", "/ngsi-ld/v1/entities/%s/attrs" % ENTITY_ID, JSON, json.dumps({"name": value}))
    t.expect_problem(r, 400, "BadRequestData", "PATCH nested 65 deep")
    unchanged(t, server, "deep nesting")

    # ---- numbers JSON allows but a double cannot hold -------------------------------------
    t.step("a number beyond the double range (1e400): refused, or kept without change")
    body = '{"id": "urn:ngsi-ld:Device:huge", "type": "Device", "reading": 1e400}'
    r = server.request("POST", "/ngsi-ld/v1/entities", JSON, body)
    huge_created = r.status == 201
    if huge_created:
        g = server.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Device:huge?options=keyValues")
        reading = g.json().get("reading") if g.status == 200 else "<%d>" % g.status
        t.expect(isinstance(reading, (int, float)) and reading > 1e308, "1e400 was acknowledged (201): read back",
                 "1e400 (or a 400 BadRequestData on the POST)", reading)
    else:
        t.expect_problem(r, 400, "BadRequestData", "1e400")

    # ---- body limit ----------------------------------------------------------------------
    t.step("a body just under --body-limit %d is accepted" % BODY_LIMIT)
    small = {"id": "urn:ngsi-ld:Device:big-ok", "type": "Device", "note": ""}
    small["note"] = "x" * (BODY_LIMIT - 100 - len(json.dumps(small)))
    r = server.request("POST", "/ngsi-ld/v1/entities", JSON, json.dumps(small))
    t.expect_status(r, 201, "body of %d bytes" % len(json.dumps(small)))

    t.step("a body over --body-limit is 413")
    big = {"id": "urn:ngsi-ld:Device:big-no", "type": "Device", "note": "y" * (BODY_LIMIT + 500)}
    r = server.request("POST", "/ngsi-ld/v1/entities", JSON, json.dumps(big))
    t.expect_problem(r, 413, "about:blank", "body over the limit")
    r = server.request("PATCH", "/ngsi-ld/v1/entities/%s/attrs" % ENTITY_ID, JSON,
                       json.dumps({"name": "z" * (BODY_LIMIT * 4)}))
    t.expect_problem(r, 413, "about:blank", "PATCH body over the limit")

    t.step("a chunked body over --body-limit is 413")
    body = json.dumps({"id": "urn:ngsi-ld:Device:big-chunked", "type": "Device", "note": "c" * (BODY_LIMIT * 2)}).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 1000]), body[i:i + 1000]) for i in range(0, len(body), 1000))
    raw = raw_request("POST", "/ngsi-ld/v1/entities", {"Content-Type": "application/json",
                                                       "Transfer-Encoding": "chunked"}, chunks + b"0\r\n\r\n")
    answer = parse_raw_response(send_raw(server.port, raw))
    if t.expect(answer is not None, "chunked body over the limit: an HTTP answer", "an HTTP response", answer):
        t.expect(answer[0] == 413, "chunked body over the limit: status", 413, answer[0])
    for eid in ("big-no", "big-chunked"):
        r = server.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Device:" + eid)
        t.expect_status(r, 404, "%s was not stored" % eid)
    unchanged(t, server, "body limit")

    # ---- not HTTP at all -----------------------------------------------------------------
    garbage = {
        "binary garbage": b"\x00\x01\x02\xff\xfe garbage \x7f\r\n\r\n",
        "a text line that is not a request line": b"HELLO THERE\r\n\r\n",
        "TLS ClientHello on the plain port": bytes.fromhex("160301002a0100002603035a") + b"\x00" * 40,
        "bad Content-Length": b"POST /ngsi-ld/v1/entities HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
        "bad chunk size": b"POST /ngsi-ld/v1/entities HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    }
    for what, data in garbage.items():
        t.step("send %s" % what)
        try:
            reply = send_raw(server.port, data)
        except OSError as e:
            reply = b""
            t.fail("%s: connection error %s" % (what, e))
        answer = parse_raw_response(reply)
        if t.expect(answer is not None, "%s: answered with an HTTP response" % what, "HTTP/1.1 400", reply[:200]):
            status, headers, body = answer
            t.expect(status == 400, "%s: status" % what, 400, status)
            try:
                t.check_problem_body(json.loads(body.decode("utf-8")), 400, "BadRequestData", what)
            except (UnicodeDecodeError, ValueError) as e:
                t.fail("%s: problem body is JSON" % what, "JSON", "%s %r" % (e, body[:200]))
        t.expect(server.alive(), "%s: server still running" % what)
    unchanged(t, server, "garbage")

    # ---- truncated body ------------------------------------------------------------------
    t.step("a body shorter than its Content-Length, then the client stops sending")
    body = json.dumps({"id": "urn:ngsi-ld:Device:truncated", "type": "Device", "name": "cut"}).encode()
    raw = raw_request("POST", "/ngsi-ld/v1/entities", {"Content-Type": "application/json",
                                                       "Content-Length": str(len(body))}, body[: len(body) // 2])
    reply = send_raw(server.port, raw, half_close=True)
    answer = parse_raw_response(reply)
    if answer is not None:  # answering is optional (nothing can be parsed); if it answers, it is an error
        t.expect(answer[0] == 400, "truncated body: status", 400, answer[0])
    r = server.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Device:truncated")
    t.expect_status(r, 404, "truncated entity was not created")

    t.step("a truncated body, connection dropped abruptly (RST)")
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    s.sendall(raw_request("PATCH", "/ngsi-ld/v1/entities/%s/attrs" % ENTITY_ID,
                          {"Content-Type": "application/json", "Content-Length": "500"},
                          b'{"name": {"type": "Property", "value": "tru'))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()
    time.sleep(0.1)
    unchanged(t, server, "truncated body")

    # ---- oversized header, pipelining ----------------------------------------------------
    t.step("a header over 64 KiB")
    raw = raw_request("GET", "/ngsi-ld/v1/entities/" + ENTITY_ID, {"X-Filler": "h" * (70 * 1024)}, b"")
    answer = parse_raw_response(send_raw(server.port, raw))
    if t.expect(answer is not None, "oversized header: an HTTP answer", "HTTP 400 or 431", None):
        t.expect(answer[0] in (400, 431), "oversized header: status", "400 or 431", answer[0])
    unchanged(t, server, "oversized header")

    t.step("two pipelined requests in one write get two answers, in order")
    raw = (raw_request("GET", "/ngsi-ld/v1/entities/%s?options=keyValues&attrs=name" % ENTITY_ID, {}, b"") +
           raw_request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Device:nope", {"Connection": "close"}, b""))
    reply = send_raw(server.port, raw, half_close=False)
    first = parse_raw_response(reply)
    t.expect(first is not None and first[0] == 200, "pipelined: first answer 200", 200, first and first[0])
    t.expect(b"HTTP/1.1 404" in reply, "pipelined: second answer 404", "HTTP/1.1 404", reply[-300:])

    # ---- everything survives a restart unchanged -----------------------------------------
    t.step("restart: the accepted entities are all there, none of the refused ones")
    server.restart()
    unchanged(t, server, "after restart")
    r = server.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Device:deep-64?options=keyValues")
    if t.expect_status(r, 200, "64-deep entity (acknowledged with 201) after restart"):
        t.expect_equal(r.json(), json.loads(nested(64)), "64-deep entity after restart")
    r = server.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Device:big-ok")
    t.expect_status(r, 200, "entity just under the body limit after restart")
    if huge_created:
        r = server.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Device:huge")
        t.expect_status(r, 200, "entity with 1e400 (acknowledged with 201) after restart")
    expected = 4 if huge_created else 3
    h = server.request("GET", "/health").json()
    t.expect(h.get("entities") == expected, "entity count after restart (all acknowledged creations)",
             expected, h.get("entities"))


if __name__ == "__main__":
    sys.exit(main())
