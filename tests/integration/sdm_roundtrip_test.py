#!/usr/bin/env python3
"""Round trip of every FIWARE Smart Data Model fixture (tests/fixtures/sdm/<Model>/):

1. POST example-normalized.jsonld as application/ld+json (its @context inline) -> 201;
2. GET it normalized, with Accept: application/ld+json and with Accept: application/json, both with
   a Link header naming the model's context: equal to the fixture, modulo @context, system
   attributes and observedAt rendered as YYYY-MM-DDTHH:MM:SS.sssZ in UTC;
3. GET it with options=keyValues: equal to example.jsonld on every attribute on which
   example.jsonld and example-normalized.jsonld agree (the two examples are not always consistent);
4. the same normalized comparison after a restart.

    python3 sdm_roundtrip_test.py --binary build/release/citytwin [--fixtures tests/fixtures]
"""

import datetime
import json
import os
import sys
import urllib.parse

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, dump, json_equal, stop_and_check, test_arguments  # noqa: E402

CORE_PREFIX = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context"
SYSTEM_MEMBERS = ("createdAt", "modifiedAt", "@context")


def canonical_datetime(text):
    """An ISO 8601 date-time as the server renders it: UTC, milliseconds, Z."""
    t = text.replace("z", "Z")
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    dt = datetime.datetime.fromisoformat(t)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    dt = dt.astimezone(datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def normalize(value, top=True):
    """Drops @context and system attributes, and puts every observedAt in canonical form."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in SYSTEM_MEMBERS:
                continue
            if k == "observedAt" and isinstance(v, str):
                out[k] = canonical_datetime(v)
            else:
                out[k] = normalize(v, False)
        return out
    if isinstance(value, list):
        return [normalize(v, False) for v in value]
    return value


def simplified(attribute):
    """The key-values form of one normalized attribute."""
    if isinstance(attribute, list):
        return [simplified(a) for a in attribute]
    if not isinstance(attribute, dict):
        return attribute
    kind = attribute.get("type")
    if kind == "Relationship":
        return attribute.get("object")
    if kind == "LanguageProperty":
        return {"languageMap": attribute.get("languageMap")}
    return attribute.get("value")


def model_context(document):
    ctx = document.get("@context")
    urls = [ctx] if isinstance(ctx, str) else [c for c in ctx if isinstance(c, str)]
    models = [u for u in urls if not u.startswith(CORE_PREFIX)]
    return models[0] if models else None


def link(url):
    return '<%s>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"' % url


def diff(expected, actual):
    """Human-readable differences between two entity objects, attribute by attribute."""
    lines = []
    for k in expected:
        if k not in actual:
            lines.append("missing %s (expected %s)" % (k, dump(expected[k], 200)))
        elif not json_equal(expected[k], actual[k]):
            lines.append("%s: expected %s, got %s" % (k, dump(expected[k], 300), dump(actual[k], 300)))
    for k in actual:
        if k not in expected:
            lines.append("unexpected %s = %s" % (k, dump(actual[k], 200)))
    return "; ".join(lines)


def compare_normalized(t, server, model, normalized, ctx_url, label):
    eid = normalized["id"]
    path = "/ngsi-ld/v1/entities/" + urllib.parse.quote(eid, safe=":")
    expected = normalize(normalized)

    r = server.request("GET", path, {"Accept": "application/ld+json", "Link": link(ctx_url)})
    if t.expect_status(r, 200, "%s %s: GET as application/ld+json" % (label, model)):
        t.expect((r.header("Content-Type") or "").startswith("application/ld+json"),
                 "%s %s: Content-Type" % (label, model), "application/ld+json", r.header("Content-Type"))
        body = r.json()
        ctx = body.get("@context")
        t.expect(ctx == ctx_url or (isinstance(ctx, list) and ctx_url in ctx),
                 "%s %s: @context in the body names the model context" % (label, model), ctx_url, ctx)
        actual = normalize(body)
        t.expect(json_equal(expected, actual), "%s %s: normalized JSON-LD equals example-normalized.jsonld" % (label, model),
                 "the fixture", diff(expected, actual))

    r = server.request("GET", path, {"Accept": "application/json", "Link": link(ctx_url)})
    if t.expect_status(r, 200, "%s %s: GET as application/json" % (label, model)):
        t.expect(r.header("Link") == link(ctx_url), "%s %s: Link header" % (label, model), link(ctx_url), r.header("Link"))
        body = r.json()
        t.expect("@context" not in body, "%s %s: no @context in an application/json body" % (label, model),
                 "none", body.get("@context"))
        actual = normalize(body)
        t.expect(json_equal(expected, actual), "%s %s: normalized JSON equals example-normalized.jsonld" % (label, model),
                 "the fixture", diff(expected, actual))


def compare_key_values(t, server, model, normalized, key_values, ctx_url):
    eid = normalized["id"]
    path = "/ngsi-ld/v1/entities/%s?options=keyValues" % urllib.parse.quote(eid, safe=":")
    r = server.request("GET", path, {"Link": link(ctx_url)})
    if not t.expect_status(r, 200, "%s: GET options=keyValues" % model):
        return
    actual = r.json()
    t.expect(actual.get("id") == key_values["id"], "%s keyValues: id" % model, key_values["id"], actual.get("id"))
    t.expect(actual.get("type") == key_values["type"], "%s keyValues: type" % model, key_values["type"], actual.get("type"))
    attributes = [k for k in normalized if k not in ("id", "type", "@context")]
    t.expect(sorted(k for k in actual if k not in ("id", "type")) == sorted(attributes),
             "%s keyValues: the attributes of the normalized example" % model, sorted(attributes),
             sorted(k for k in actual if k not in ("id", "type")))
    agreed, skipped = [], []
    for name in attributes:
        if name in key_values and json_equal(simplified(normalized[name]), key_values[name]):
            agreed.append(name)
        else:
            skipped.append(name)
    for name in agreed:
        t.expect(name in actual and json_equal(actual[name], key_values[name]),
                 "%s keyValues: %s equals example.jsonld" % (model, name), dump(key_values[name], 300),
                 dump(actual.get(name, "<missing>"), 300))
    t.step("%s: keyValues compared on %d attributes (%d where the examples disagree: %s)" % (
        model, len(agreed), len(skipped), ", ".join(skipped) or "none"))
    t.expect(len(agreed) >= 3, "%s keyValues: enough attributes compared" % model, ">= 3", len(agreed))


def main():
    args = test_arguments(__doc__.split("\n\n")[0]).parse_args()
    t = Checker("sdm_roundtrip_test")
    sdm = os.path.join(args.fixtures, "sdm")
    models = sorted(d for d in os.listdir(sdm) if os.path.isdir(os.path.join(sdm, d)))
    if not t.expect(len(models) >= 9, "fixtures found in %s" % sdm, ">= 9 models", models):
        return t.finish()
    server = Server(args.binary, keep=args.keep)
    loaded = {}
    try:
        server.start()
        for model in models:
            with open(os.path.join(sdm, model, "example-normalized.jsonld"), encoding="utf-8") as f:
                normalized = json.load(f)
            with open(os.path.join(sdm, model, "example.jsonld"), encoding="utf-8") as f:
                key_values = json.load(f)
            ctx_url = model_context(normalized)
            t.step("%s: POST example-normalized.jsonld (context %s)" % (model, ctx_url))
            r = server.request("POST", "/ngsi-ld/v1/entities", {"Content-Type": "application/ld+json"},
                               json.dumps(normalized))
            if not t.expect_status(r, 201, "%s: create" % model):
                continue
            t.expect(r.header("Location") == "/ngsi-ld/v1/entities/" + normalized["id"],
                     "%s: Location" % model, "/ngsi-ld/v1/entities/" + normalized["id"], r.header("Location"))
            loaded[model] = (normalized, ctx_url)
            compare_normalized(t, server, model, normalized, ctx_url, "")
            compare_key_values(t, server, model, normalized, key_values, ctx_url)

        t.step("restart, then compare the normalized forms again")
        server.restart()
        for model, (normalized, ctx_url) in loaded.items():
            compare_normalized(t, server, model, normalized, ctx_url, "after restart:")
    finally:
        stop_and_check(t, server)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
