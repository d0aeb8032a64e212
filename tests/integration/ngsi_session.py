#!/usr/bin/env python3
"""Runs NGSI-LD session files against the real citytwin binary.

    python3 ngsi_session.py --binary build/release/citytwin sessions/entities_create_read.session [...]

Each session file gets its own server: a free loopback port and a fresh temporary data dir. The
session's steps run in order; every step is printed, and a failing step prints what was expected
and what came back. The exit status is non-zero if any step of any file failed. The format of
session files is described in README.md next to this file.

Imported as a library (the *_test.py scripts do), it offers `Server` (start, stop, kill9,
restart, request) and `Response`.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HEALTH_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


# --------------------------------------------------------------------------------------------
# The server under test
# --------------------------------------------------------------------------------------------

def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value) as received
        self.body = body        # bytes

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<Response %d %s>" % (self.status, self.text()[:300])


class ServerError(Exception):
    pass


class Server:
    """One citytwin process on a free loopback port with its own data dir.

    data_dir: reuse an existing dir (else a fresh temporary one, removed by cleanup()).
    extra_args: more `serve` options, e.g. ["--body-limit", "4096"].
    command: the subcommand that runs the server ("serve", or "demo" for the demo city).
    preexec_fn: run in the child before exec (e.g. resource.setrlimit for a descriptor limit).
    """

    def __init__(self, binary, data_dir=None, extra_args=(), keep=False, command="serve", preexec_fn=None):
        self.binary = os.path.abspath(binary)
        if not os.access(self.binary, os.X_OK):
            raise ServerError("no executable binary at %s" % self.binary)
        self.tmp = tempfile.mkdtemp(prefix="citytwin-it-")
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        self.log_path = os.path.join(self.tmp, "server.log")
        self.extra_args = list(extra_args)
        self.command = command
        self.preexec_fn = preexec_fn
        self.keep = keep
        self.proc = None
        self.port = None
        self._conn = None
        self.starts = 0

    # -- life cycle ------------------------------------------------------------------------

    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, timeout=HEALTH_TIMEOUT, port=None):
        """Starts the server and waits until GET /health answers 200."""
        last_error = None
        for attempt in range(3):
            self.port = port if (port and attempt == 0) else free_port()
            log = open(self.log_path, "ab")
            log.write(("\n--- start #%d on port %d ---\n" % (self.starts + 1, self.port)).encode())
            log.flush()
            cmd = [self.binary, self.command, "--listen", "127.0.0.1:%d" % self.port,
                   "--data-dir", self.data_dir] + self.extra_args
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         preexec_fn=self.preexec_fn)
            log.close()
            self.starts += 1
            try:
                self._wait_healthy(timeout)
                return self
            except ServerError as e:
                last_error = e
                if self.proc.poll() is None:  # alive but not healthy in time: a real failure
                    self.kill9()
                    raise
                # it exited: maybe the port was taken meanwhile by a parallel test; try another
        raise ServerError("%s\n%s" % (last_error, self.log_tail()))

    def _wait_healthy(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError("citytwin exited with status %s before it was healthy" % self.proc.returncode)
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                c.request("GET", "/health")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise ServerError("citytwin did not answer GET /health with 200 within %.0f s\n%s" %
                          (timeout, self.log_tail()))

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, then wait for a clean exit; returns the exit status (raises if it hangs)."""
        self._drop_connection()
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise ServerError("citytwin did not stop within %.0f s of SIGTERM" % timeout)

    def kill9(self):
        self._drop_connection()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def restart(self, crash=False):
        """Stops (SIGTERM, or kill -9 when crash) and starts again on the same data dir and, if free, port."""
        if crash:
            self.kill9()
        else:
            code = self.stop()
            if code != 0:
                raise ServerError("citytwin exited with status %s on SIGTERM\n%s" % (code, self.log_tail()))
        return self.start(port=self.port)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cleanup(self):
        if self.alive():
            self.kill9()
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read().decode("utf-8", errors="replace").splitlines()
            return "--- server log (last %d lines) ---\n%s" % (lines, "\n".join(data[-lines:]))
        except OSError:
            return "(no server log)"

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, *exc):
        try:
            if self.alive():
                self.stop()
        finally:
            self.cleanup()

    # -- HTTP ------------------------------------------------------------------------------

    def _drop_connection(self):
        if self._conn is not None:
            try:
                self._conn.close()
            except OSError:
                pass
            self._conn = None

    def connection(self, timeout=30):
        """A new keep-alive connection to the server (http.client.HTTPConnection)."""
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, headers=None, body=None, json_body=None, timeout=30):
        """Sends one request on the server's shared keep-alive connection; returns a Response.

        body may be str or bytes; json_body is serialized (Content-Type is not added: pass it)."""
        if json_body is not None:
            body = json.dumps(json_body)
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = dict(headers or {})
        for attempt in range(2):
            if self._conn is None:
                self._conn = self.connection(timeout)
            try:
                self._conn.request(method, path, body=body, headers=headers)
                r = self._conn.getresponse()
                data = r.read()
                resp = Response(r.status, r.reason, r.getheaders(), data)
                if r.will_close:
                    self._drop_connection()
                return resp
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.CannotSendRequest, http.client.ResponseNotReady):
                # the server closed an idle keep-alive connection: retry once on a new one
                self._drop_connection()
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def health(self):
        return self.request("GET", "/health")


def send_raw(port, data, timeout=5.0, half_close=True):
    """Writes raw bytes to the server and returns whatever it answers until it closes (bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
            if half_close:
                s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may answer (413, 400) and close before it has read everything we send
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def parse_raw_response(data):
    """(status, headers dict lower-cased, body bytes) of the first HTTP response in `data`, or None."""
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    if not m:
        return None
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0") or 0)
    return int(m.group(1)), headers, rest[:n]


# --------------------------------------------------------------------------------------------
# For the *_test.py scripts: checks that print what they test and collect failures
# --------------------------------------------------------------------------------------------

NGSI_ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"


_UNSET = object()


class Checker:
    def __init__(self, name):
        self.name = name
        self.failures = []
        self.checks = 0
        print("== %s" % name, flush=True)

    def step(self, text):
        print("  - %s" % text, flush=True)

    def fail(self, what, expected=_UNSET, actual=_UNSET):
        lines = ["FAIL %s" % what]
        if expected is not _UNSET:
            lines.append("  expected: %s" % (expected,))
        if actual is not _UNSET:
            lines.append("  actual  : %s" % (dump(actual, 2000) if not isinstance(actual, str) else actual))
        text = "\n".join("    " + line for line in lines)
        print(text, flush=True)
        self.failures.append(text)

    def expect(self, condition, what, expected=_UNSET, actual=_UNSET):
        self.checks += 1
        if not condition:
            self.fail(what, expected, actual)
        return bool(condition)

    def expect_equal(self, actual, expected, what):
        self.checks += 1
        if not json_equal(expected, actual):
            self.fail(what, dump(expected, 2000), dump(actual, 2000))
            return False
        return True

    def expect_status(self, response, status, what):
        ok = response.status in status if isinstance(status, (tuple, list, set)) else response.status == status
        return self.expect(ok, "%s: status" % what, status, "%d %s" % (response.status, response.text()[:500]))

    def expect_problem(self, response, status, error_type, what):
        """status and an RFC 7807 problem body with that type (a short NGSI-LD name or a full URI)."""
        if not self.expect_status(response, status, what):
            return False
        try:
            body = json.loads(response.body.decode("utf-8"))  # strict: must be valid UTF-8 JSON
        except (UnicodeDecodeError, ValueError) as e:
            return self.expect(False, "%s: problem body is valid UTF-8 JSON" % what, "JSON", "%s: %r" % (e, response.body[:300]))
        return self.check_problem_body(body, status, error_type, what)

    def check_problem_body(self, body, status, error_type, what):
        if error_type is not None and "://" not in error_type and ":" not in error_type:
            error_type = NGSI_ERRORS + error_type
        ok = self.expect(isinstance(body, dict), "%s: problem body is an object" % what, "object", dump(body))
        if not ok:
            return False
        if error_type is not None:
            ok &= self.expect(body.get("type") == error_type, "%s: problem type" % what, error_type, body.get("type"))
        ok &= self.expect(isinstance(body.get("title"), str), "%s: problem title" % what, "a string", body.get("title"))
        accepted = status if isinstance(status, tuple) else (status,)
        ok &= self.expect(body.get("status") is None or body.get("status") in accepted,
                          "%s: problem status member" % what, status, body.get("status"))
        return ok

    def finish(self):
        if self.failures:
            print("== %s: %d of %d checks FAILED" % (self.name, len(self.failures), self.checks), flush=True)
            return 1
        print("== %s: ok (%d checks)" % (self.name, self.checks), flush=True)
        return 0


def stop_and_check(t, server):
    """The end of a test script: stops the server (a clean exit on SIGTERM is one more check) and
    removes its temporary files."""
    if server.alive():
        code = server.stop()
        t.expect(code == 0, "clean exit on SIGTERM", 0, code)
    server.cleanup()


def test_arguments(description):
    """The command line every *_test.py script takes: --binary, --fixtures, --keep."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--binary", required=True, help="path of the citytwin executable")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data dir and server log")
    default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
    ap.add_argument("--fixtures", default=os.path.normpath(default), help="the tests/fixtures folder")
    return ap


# --------------------------------------------------------------------------------------------
# Matching expected values against actual ones
# --------------------------------------------------------------------------------------------

DATETIME_RE = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"
KIND_RES = {
    "any": r".*",
    "string": r".*",
    "datetime": DATETIME_RE,
    "uri": r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]+",
    "number": r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?",
}
PLACEHOLDER_RE = re.compile(r"\{\{\s*(any|absent|string|number|datetime|uri)\s*(?:([:!])\s*([A-Za-z_][A-Za-z0-9_]*))?\s*\}\}")
ABSENT = "{{absent}}"


class Mismatch(Exception):
    def __init__(self, path, message):
        super().__init__("%s: %s" % (path or "$", message))
        self.path = path
        self.message = message


class Matcher:
    """Compares expected JSON (with {{placeholders}}) against actual JSON, binding captures."""

    def __init__(self, variables):
        self.vars = variables  # name -> value, shared by a whole session

    def _kind_ok(self, kind, actual):
        if kind == "any":
            return True
        if kind == "string":
            return isinstance(actual, str)
        if kind == "number":
            return isinstance(actual, (int, float)) and not isinstance(actual, bool)
        if kind == "datetime":
            return isinstance(actual, str) and re.fullmatch(DATETIME_RE, actual) is not None
        if kind == "uri":
            return isinstance(actual, str) and re.fullmatch(KIND_RES["uri"], actual) is not None
        return False

    def _bind(self, op, name, actual, path):
        if name is None:
            return
        if op == ":":
            if name in self.vars:
                if not json_equal(self.vars[name], actual):
                    raise Mismatch(path, "expected the value captured as %s (%s), got %s" %
                                   (name, dump(self.vars[name]), dump(actual)))
            else:
                self.vars[name] = actual
        else:  # "!": must differ from the captured value
            if name not in self.vars:
                raise Mismatch(path, "{{...!%s}} used before %s was captured" % (name, name))
            if json_equal(self.vars[name], actual):
                raise Mismatch(path, "expected a value different from %s (%s)" % (name, dump(actual)))

    def match_string_template(self, expected, actual, path):
        """A string with placeholders inside it, e.g. "/ngsi-ld/v1/jsonldContexts/{{string:id}}"."""
        if not isinstance(actual, str):
            raise Mismatch(path, "expected a string like %s, got %s" % (dump(expected), dump(actual)))
        pattern, captures, pos = "", [], 0
        for m in PLACEHOLDER_RE.finditer(expected):
            pattern += re.escape(expected[pos:m.start()])
            kind, op, name = m.group(1), m.group(2), m.group(3)
            if kind == "absent":
                raise Mismatch(path, "{{absent}} cannot be part of a longer string")
            if op == ":" and name in self.vars and isinstance(self.vars[name], str):
                pattern += "(" + re.escape(self.vars[name]) + ")"
            else:
                pattern += "(" + KIND_RES[kind] + ")"
            captures.append((op, name))
            pos = m.end()
        pattern += re.escape(expected[pos:])
        m = re.fullmatch(pattern, actual, re.S)
        if not m:
            raise Mismatch(path, "expected %s, got %s" % (dump(expected), dump(actual)))
        for i, (op, name) in enumerate(captures):
            self._bind(op, name, m.group(i + 1), path)

    def match(self, expected, actual, path="", subset=False):
        if isinstance(expected, str):
            whole = PLACEHOLDER_RE.fullmatch(expected.strip())
            if whole:
                kind, op, name = whole.group(1), whole.group(2), whole.group(3)
                if kind == "absent":
                    raise Mismatch(path, "{{absent}} only makes sense as an object member's value")
                if not self._kind_ok(kind, actual):
                    raise Mismatch(path, "expected %s, got %s" % (expected, dump(actual)))
                self._bind(op, name, actual, path)
                return
            if PLACEHOLDER_RE.search(expected):
                self.match_string_template(expected, actual, path)
                return
            if expected != actual:
                raise Mismatch(path, "expected %s, got %s" % (dump(expected), dump(actual)))
            return
        if isinstance(expected, dict):
            if not isinstance(actual, dict):
                raise Mismatch(path, "expected an object, got %s" % dump(actual))
            for k, v in expected.items():
                sub = "%s.%s" % (path, k) if path else k
                if v == ABSENT:
                    if k in actual:
                        raise Mismatch(sub, "expected no such member, got %s" % dump(actual[k]))
                    continue
                if k not in actual:
                    raise Mismatch(sub, "member missing (expected %s)" % dump(v))
                self.match(v, actual[k], sub, subset)
            if not subset:
                extra = [k for k in actual if k not in expected]
                if extra:
                    raise Mismatch(path, "unexpected member(s) %s" % ", ".join(
                        "%s=%s" % (k, dump(actual[k])) for k in extra))
            return
        if isinstance(expected, list):
            if not isinstance(actual, list):
                raise Mismatch(path, "expected an array, got %s" % dump(actual))
            if len(expected) != len(actual):
                raise Mismatch(path, "expected %d items, got %d: %s" % (len(expected), len(actual), dump(actual)))
            for i, (e, a) in enumerate(zip(expected, actual)):
                self.match(e, a, "%s[%d]" % (path, i), subset)
            return
        if not json_equal(expected, actual):
            raise Mismatch(path, "expected %s, got %s" % (dump(expected), dump(actual)))


def json_equal(a, b):
    """JSON equality: 1 == 1.0, but true != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def dump(value, limit=400):
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def pretty(value):
    return json.dumps(value, ensure_ascii=False, indent=2)


# --------------------------------------------------------------------------------------------
# Session files
# --------------------------------------------------------------------------------------------

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
REQUEST_LINE_RE = re.compile(r"^(%s)\s+(\S+)\s*$" % "|".join(METHODS))
HEADER_RE = re.compile(r"^([A-Za-z][A-Za-z0-9-]*):\s?(.*)$")
STATUS_RE = re.compile(r"^=>\s*(\d{3})(?:\s+(.*))?$")
DIRECTIVE_RE = re.compile(r"^!(\w+)(?:\s+(.*))?$")
BODY_MODES = ("exact", "subset", "text", "empty")


class SessionSyntaxError(Exception):
    pass


class Step:
    def __init__(self, line, title):
        self.line = line          # line number of the request (1-based)
        self.title = title        # the comment just above, if any
        self.kind = "request"     # or "directive"
        self.method = None
        self.target = None
        self.headers = []
        self.body = None
        self.status = None
        self.mode = "exact"
        self.expect_headers = []
        self.expect_body = None   # text
        self.directive = None
        self.argument = None


def starts_step(line):
    return (REQUEST_LINE_RE.match(line) is not None or line.startswith("#") or
            DIRECTIVE_RE.match(line) is not None)


def parse_session(text, filename="<session>"):
    lines = text.splitlines()
    steps, i, title = [], 0, []

    def err(lineno, msg):
        raise SessionSyntaxError("%s:%d: %s" % (filename, lineno, msg))

    while i < len(lines):
        line = lines[i].rstrip()
        if not line.strip():
            title = []  # only the comment block right above a step is its title
            i += 1
            continue
        if line.startswith("#"):
            text_ = line.lstrip("#").strip()
            if text_ and not set(text_) <= set("-=*"):
                title.append(text_)
            i += 1
            continue
        d = DIRECTIVE_RE.match(line)
        if d:
            step = Step(i + 1, " ".join(title))
            step.kind = "directive"
            step.directive, step.argument = d.group(1), (d.group(2) or "").strip()
            if step.directive not in ("restart", "crash", "sleep", "set"):
                err(i + 1, "unknown directive !%s (use !restart, !crash, !sleep SECONDS or !set NAME VALUE)" %
                    step.directive)
            if step.directive == "set" and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*\s+\S", step.argument):
                err(i + 1, "!set needs a name and a value")
            steps.append(step)
            title = []
            i += 1
            continue
        m = REQUEST_LINE_RE.match(line)
        if not m:
            err(i + 1, "expected a request line like 'GET /path', a '# comment' or a '!directive', got %r" % line)
        step = Step(i + 1, " ".join(title))
        title = []
        step.method, step.target = m.group(1), m.group(2)
        i += 1
        # request headers
        while i < len(lines) and lines[i].strip() and not lines[i].startswith("=>"):
            h = HEADER_RE.match(lines[i].rstrip())
            if not h:
                err(i + 1, "expected a request header 'Name: value', a blank line or '=> STATUS', got %r" % lines[i])
            step.headers.append((h.group(1), h.group(2).strip()))
            i += 1
        # request body: after a blank line, up to the '=>' line
        body = []
        while i < len(lines) and not lines[i].startswith("=>"):
            if REQUEST_LINE_RE.match(lines[i]) or DIRECTIVE_RE.match(lines[i]):
                err(i + 1, "the request on line %d has no '=> STATUS' line" % step.line)
            body.append(lines[i])
            i += 1
        if i >= len(lines):
            err(step.line, "the request has no '=> STATUS' line")
        body_text = "\n".join(body).strip("\n")
        step.body = body_text if body_text.strip() else None
        s = STATUS_RE.match(lines[i].rstrip())
        if not s:
            err(i + 1, "expected '=> STATUS [exact|subset|text|empty]', got %r" % lines[i])
        step.status = int(s.group(1))
        mode = (s.group(2) or "exact").strip()
        if mode not in BODY_MODES:
            err(i + 1, "unknown body mode %r (exact, subset, text or empty)" % mode)
        step.mode = mode
        i += 1
        # expected headers, then the expected body up to the next step
        while i < len(lines) and HEADER_RE.match(lines[i].rstrip()) and not starts_step(lines[i]):
            h = HEADER_RE.match(lines[i].rstrip())
            step.expect_headers.append((h.group(1), h.group(2).strip()))
            i += 1
        expected = []
        while i < len(lines) and not starts_step(lines[i]):
            expected.append(lines[i].rstrip())
            i += 1
        exp_text = "\n".join(expected).strip()
        step.expect_body = exp_text if exp_text else None
        if step.expect_body is not None and step.mode in ("exact", "subset"):
            try:
                json.loads(step.expect_body)
            except ValueError as e:
                err(step.line, "the expected body is not JSON (%s); use '=> %d text' for text" % (e, step.status))
        if step.mode == "empty" and step.expect_body is not None:
            err(step.line, "'=> %d empty' cannot have an expected body" % step.status)
        steps.append(step)
    return steps


VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def substitute(text, variables, where):
    def repl(m):
        name = m.group(1)
        if name not in variables:
            raise SessionSyntaxError("%s uses ${%s} before it was captured" % (where, name))
        v = variables[name]
        return v if isinstance(v, str) else json.dumps(v)
    return VAR_RE.sub(repl, text)


def media_type(value):
    return value.split(";")[0].strip().lower()


class SessionRunner:
    def __init__(self, server, filename, out=sys.stdout, verbose=False):
        self.server = server
        self.filename = filename
        self.out = out
        self.verbose = verbose
        self.vars = {}

    def say(self, text=""):
        print(text, file=self.out, flush=True)

    def run(self, steps):
        failures = 0
        for n, step in enumerate(steps, 1):
            label = "%s:%d" % (os.path.basename(self.filename), step.line)
            if step.kind == "directive":
                self.say("  [%2d] %-34s !%s %s" % (n, label, step.directive, step.argument))
                try:
                    self.run_directive(step)
                except Exception as e:  # noqa: BLE001 - report and stop the session
                    failures += 1
                    self.say("       FAIL: %s" % e)
                    return failures
                continue
            try:
                target = substitute(step.target, self.vars, label)
            except SessionSyntaxError as e:
                failures += 1
                self.say("  [%2d] %-34s FAIL: %s" % (n, label, e))
                continue
            title = (" -- " + step.title) if step.title else ""
            self.say("  [%2d] %-34s %s %s%s" % (n, label, step.method, target, title))
            self.sent = (dict(step.headers), step.body)
            try:
                problems, response = self.run_request(step, target)
            except (OSError, http.client.HTTPException) as e:
                problems, response = ["no answer: %s: %s" % (type(e).__name__, e)], None
            except SessionSyntaxError as e:
                problems, response = [str(e)], None
            if problems:
                failures += 1
                self.report(step, target, problems, response)
                if not self.server.alive():
                    self.say("       the server is no longer running (exit status %s); stopping this session\n%s" %
                             (self.server.proc.returncode, self.server.log_tail()))
                    return failures
        return failures

    def run_directive(self, step):
        if step.directive == "restart":
            self.server.restart(crash=False)
        elif step.directive == "crash":
            self.server.restart(crash=True)
        elif step.directive == "sleep":
            time.sleep(float(step.argument or "0.05"))
        elif step.directive == "set":
            name, value = step.argument.split(None, 1)
            self.vars[name] = value.strip()

    def run_request(self, step, target):
        label = "%s:%d" % (self.filename, step.line)
        headers = {k: substitute(v, self.vars, label) for k, v in step.headers}
        body = substitute(step.body, self.vars, label) if step.body is not None else None
        self.sent = (headers, body)
        response = self.server.request(step.method, target, headers=headers, body=body)
        problems = []
        if response.status != step.status:
            problems.append("status: expected %d, got %d %s" % (step.status, response.status, response.reason))
        matcher = Matcher(self.vars)
        for name, expected in step.expect_headers:
            expected = substitute(expected, self.vars, label)
            actual = response.header(name)
            if expected == ABSENT:
                if actual is not None:
                    problems.append("header %s: expected none, got %r" % (name, actual))
                continue
            if actual is None:
                problems.append("header %s: missing (expected %r)" % (name, expected))
                continue
            if name.lower() == "content-type" and ";" not in expected and not PLACEHOLDER_RE.search(expected):
                actual = media_type(actual)
            try:
                matcher.match(expected, actual, "header " + name)
            except Mismatch as e:
                problems.append(str(e))
        problems += self.check_body(step, response, matcher, label)
        return problems, response

    def check_body(self, step, response, matcher, label):
        if step.status == 204 or step.mode == "empty":
            if response.body:
                return ["body: expected none, got %r" % response.text()[:400]]
            return []
        if step.expect_body is None:
            return []
        expected_text = substitute(step.expect_body, self.vars, label)
        if step.mode == "text":
            if response.text().strip() != expected_text.strip():
                return ["body: expected text %r, got %r" % (expected_text, response.text()[:400])]
            return []
        expected = json.loads(expected_text)
        try:
            actual = response.json()
        except ValueError:
            return ["body: expected JSON, got %r" % response.text()[:400]]
        try:
            matcher.match(expected, actual, "", subset=(step.mode == "subset"))
        except Mismatch as e:
            return ["body %s" % e]
        return []

    def report(self, step, target, problems, response):
        self.say("       FAIL")
        headers, body = getattr(self, "sent", (dict(step.headers), step.body))
        self.say("       request : %s %s" % (step.method, target))
        for k, v in headers.items():
            self.say("                 %s: %s" % (k, v))
        if body is not None:
            self.say("                 " + body.replace("\n", "\n                 "))
        for p in problems:
            self.say("       mismatch: %s" % p)
        self.say("       expected: %d%s" % (step.status, "" if step.mode == "exact" else " (%s)" % step.mode))
        for k, v in step.expect_headers:
            self.say("                 %s: %s" % (k, v))
        if step.expect_body is not None:
            self.say("                 " + step.expect_body.replace("\n", "\n                 "))
        if response is not None:
            self.say("       actual  : %d %s" % (response.status, response.reason))
            for k, v in response.headers:
                if k.lower() in ("content-type", "location", "link", "allow") or any(
                        k.lower() == e.lower() for e, _ in step.expect_headers):
                    self.say("                 %s: %s" % (k, v))
            if response.body:
                try:
                    body = pretty(response.json())
                except ValueError:
                    body = response.text()[:2000]
                self.say("                 " + body.replace("\n", "\n                 "))


def run_file(binary, path, extra_args=(), keep=False, out=sys.stdout):
    """Runs one session file on its own server; returns the number of failed steps."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        steps = parse_session(text, path)
    except SessionSyntaxError as e:
        print("SYNTAX ERROR %s" % e, file=out)
        return 1
    print("== %s (%d steps)" % (path, len(steps)), file=out, flush=True)
    server = Server(binary, extra_args=extra_args, keep=keep)
    failures = 0
    try:
        server.start()
        failures = SessionRunner(server, path, out).run(steps)
        if server.alive():
            code = server.stop()
            if code != 0:
                print("  FAIL: citytwin exited with status %s on SIGTERM\n%s" % (code, server.log_tail()), file=out)
                failures += 1
        else:
            print("  FAIL: the server died during the session\n%s" % server.log_tail(), file=out)
            failures += 1 if failures == 0 else 0
    except ServerError as e:
        print("  FAIL: %s" % e, file=out)
        failures += 1
    finally:
        server.cleanup()
    print("== %s: %s" % (path, "ok" if failures == 0 else "%d FAILED" % failures), file=out, flush=True)
    return failures


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", required=True, help="path of the citytwin executable")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data dir and server log")
    ap.add_argument("--server-arg", action="append", default=[], help="extra argument for `citytwin serve`")
    ap.add_argument("sessions", nargs="+", help=".session files")
    args = ap.parse_args(argv)
    total = 0
    failed_files = []
    for path in args.sessions:
        n = run_file(args.binary, path, args.server_arg, args.keep)
        total += n
        if n:
            failed_files.append(path)
    if failed_files:
        print("\n%d failed step(s) in: %s" % (total, ", ".join(failed_files)))
        return 1
    print("\nall sessions passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
