#!/usr/bin/env python3
"""citytwin serves the operations console's built files (--web-dir) at /, beside the API:

- / is index.html (text/html, revalidated: no-cache); top-level files and assets/ by their type, assets
  (content-hashed by Vite) cached for a year;
- nothing outside the folder is reachable (.., percent-encoded slashes, dot files), and a missing file is a
  404 problem; the API's own paths still win;
- without a built console, / answers a 404 problem that says how to build it.

    python3 static_files_test.py --binary build/release/citytwin
"""

import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, test_arguments  # noqa: E402


def main():
    args = test_arguments(__doc__.splitlines()[0]).parse_args()
    t = Checker("static_files_test")
    top = tempfile.mkdtemp(prefix="citytwin-web-")
    web = os.path.join(top, "dist")
    os.makedirs(os.path.join(web, "assets"))
    files = {
        "index.html": b"<!doctype html><title>console</title>",
        "config.json": b'{"timeZone": "Asia/Shanghai"}',
        "assets/index-abc123.js": b"console.log(1)",
        "assets/index-abc123.css": b"body{}",
        ".secret": b"dot file",
    }
    for name, body in files.items():
        with open(os.path.join(web, name), "wb") as f:
            f.write(body)
    with open(os.path.join(top, "outside.txt"), "wb") as f:
        f.write(b"outside the web dir")
    try:
        with Server(args.binary, keep=args.keep, extra_args=["--web-dir", web]) as server:
            t.step("the console's files with their types and cache headers")
            for path, name, ctype, cache in [
                ("/", "index.html", "text/html; charset=utf-8", "no-cache"),
                ("/index.html", "index.html", "text/html; charset=utf-8", "no-cache"),
                ("/config.json", "config.json", "application/json", "no-cache"),
                ("/assets/index-abc123.js", "assets/index-abc123.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"),
                ("/assets/index-abc123.css", "assets/index-abc123.css", "text/css; charset=utf-8", "public, max-age=31536000, immutable"),
            ]:
                r = server.request("GET", path)
                t.expect_status(r, 200, "GET " + path)
                t.expect_equal(r.body, files[name], "GET %s: the file" % path)
                t.expect_equal(r.header("Content-Type"), ctype, "GET %s: Content-Type" % path)
                t.expect_equal(r.header("Cache-Control"), cache, "GET %s: Cache-Control" % path)

            t.step("nothing outside the folder, no dot files, missing files are 404 problems")
            for path in ["/../outside.txt", "/%2e%2e/outside.txt", "/..%2foutside.txt", "/assets/..%2f..%2foutside.txt",
                         "/assets/%2e%2e", "/.secret", "/nothing.js", "/assets/nothing.js", "/assets/%2fetc%2fpasswd"]:
                r = server.request("GET", path)
                t.expect(r.status in (400, 404), "GET %s is refused" % path, "400 or 404", r.status)
                t.expect("outside the web dir" not in r.text() and "dot file" not in r.text(), "GET %s leaks nothing" % path)
                t.expect_equal(r.header("Content-Type"), "application/json", "GET %s: a problem body" % path)

            t.step("the API's paths still win")
            t.expect_equal(server.request("GET", "/health").json().get("status"), "ok", "GET /health")
            t.expect_status(server.request("GET", "/ngsi-ld/v1/types"), 200, "GET /ngsi-ld/v1/types")

        t.step("without a built console, / says how to build it")
        with Server(args.binary, keep=args.keep, extra_args=["--web-dir", os.path.join(top, "missing")]) as server:
            r = server.request("GET", "/")
            t.expect_status(r, 404, "GET / without a console")
            t.expect("make release" in r.json().get("detail", ""), "the problem says how to build the console",
                     "make release", r.text())
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
