#!/usr/bin/env python3
"""Out of file descriptors, the server neither spins nor stops serving (issue #13, item 6).

The server runs with RLIMIT_NOFILE 64 (soft and hard, so its own raise to the hard limit at start-up
cannot lift it). 100 idle connections exhaust its descriptors; then:
- it uses under 5 % of a CPU over 3 s (utime + stime from /proc/PID/stat): no accept() busy loop;
- a keep-alive connection opened before the flood is still served;
- it logs the condition once;
- once the idle connections close, a new connection gets GET /health answered within a second.

    python3 descriptor_limit_test.py --binary build/release/citytwin
"""

import os
import resource
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, stop_and_check, test_arguments  # noqa: E402

LIMIT = 64
IDLE = 100
CPU_WINDOW = 3.0


def limit_descriptors():
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_descriptors(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def health_on_new_connection(port, timeout):
    """GET /health on a fresh connection; the seconds until the answer, or None."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            return None
    return time.monotonic() - start if data.startswith(b"HTTP/1.1 200") else None


def main():
    args = test_arguments(__doc__.splitlines()[0]).parse_args()
    t = Checker("descriptor_limit")
    with Server(args.binary, keep=args.keep, preexec_fn=limit_descriptors) as server:
        pid = server.proc.pid
        kept = server.connection(timeout=5)
        kept.request("GET", "/health")
        r = kept.getresponse()
        r.read()
        t.expect_equal(r.status, 200, "a keep-alive connection opened before the flood")

        t.step("%d idle connections against a limit of %d descriptors" % (IDLE, LIMIT))
        idle = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(IDLE)]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and open_descriptors(pid) < LIMIT:
            time.sleep(0.02)
        t.expect_equal(open_descriptors(pid), LIMIT, "the server holds every descriptor it may")

        t.step("no busy loop: CPU over %.0f s" % CPU_WINDOW)
        before = cpu_seconds(pid)
        time.sleep(CPU_WINDOW)  # the measurement window itself, not a wait for a condition
        share = (cpu_seconds(pid) - before) / CPU_WINDOW
        t.expect(share < 0.05, "under 5 % CPU while out of descriptors", "< 0.05", round(share, 3))

        t.step("connections already open are served")
        start = time.monotonic()
        kept.request("GET", "/health")
        r = kept.getresponse()
        r.read()
        t.expect_equal(r.status, 200, "GET /health on the kept-alive connection")
        t.expect(time.monotonic() - start < 1.0, "answered at once", "< 1 s", time.monotonic() - start)
        with open(server.log_path, encoding="utf-8", errors="replace") as f:
            warnings = f.read().count("cannot accept connections")
        t.expect_equal(warnings, 1, "the condition is logged once")

        t.step("once the idle connections close, a new connection is answered")
        for s in idle:
            s.close()
        took = health_on_new_connection(server.port, timeout=5)
        t.expect(took is not None and took < 1.0, "GET /health on a new connection within 1 s", "< 1 s", took)
        kept.close()
        stop_and_check(t, server)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
