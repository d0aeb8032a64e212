#!/usr/bin/env python3
"""Query Entities against a brute-force oracle: a seeded random Beijing (about 2,200 entities of
six types: air-quality stations, devices, street lights, roads, parks, weather stations) is loaded
with batch upserts into a big tenant (above the size where the server builds indexes) and a small
one (scanned). A few hundred queries covering every q operator, type expressions, id lists,
idPattern, attrs, scopeQ and every georel are sent by GET and by POST /entityOperations/query, and
each answer (the ids, in order, and NGSILD-Results-Count) is compared with an evaluation of the same
query in Python over the same data: q by its own evaluator, geodesic distances by Vincenty's formula
on the WGS84 ellipsoid, the Simple Features relations in the lon/lat plane.

Then the big tenant is changed with batch create / upsert / update / delete (so that indexes built
by the first queries must follow the writes) and every query runs again; then large results are
paged through with limit=100 while entities are created, changed and deleted between pages: no
entity that stayed unchanged may be skipped or repeated.

    python3 query_bruteforce_test.py --binary build/release/citytwin [--seed N] [--verbose]
"""

import json
import math
import os
import random
import re
import sys
import time
import urllib.parse
from datetime import datetime, timezone

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, test_arguments  # noqa: E402

JSON = {"Content-Type": "application/json"}
BIG, SMALL = "bigcity", "smallcity"
DEFAULT_SEED = 20240301

# ============================================================================================
# The city
# ============================================================================================

DISTRICTS = ["Chaoyang", "Haidian", "Dongcheng", "Xicheng", "Fengtai", "Shijingshan", "Tongzhou", "Changping"]
SUBAREAS = {"Chaoyang": ["Sanlitun", "Wangjing", "CBD"], "Haidian": ["Zhongguancun", "Wudaokou"],
            "Dongcheng": ["Wangfujing"], "Xicheng": ["Financial", "Xidan"], "Fengtai": ["Lize"],
            "Shijingshan": [], "Tongzhou": ["Songzhuang"], "Changping": ["Huilongguan", "Tiantongyuan"]}
CATEGORIES = ["good", "moderate", "unhealthy", "very unhealthy", "hazardous", "Good"]
STREETS = ["No. 12, Jianguo Road", "Gate 3|North", "Dongsi (east) 5", "Xueyuan Lu; Block A", "1 Chang'an Ave",
           "Zhongguancun St", "Sanlitun Rd 19", "Guanghua Lu", "Wangfujing Dajie", "Ritan Park West"]
ZH = {"Chaoyang": "朝阳", "Haidian": "海淀", "Dongcheng": "东城", "Xicheng": "西城", "Fengtai": "丰台",
      "Shijingshan": "石景山", "Tongzhou": "通州", "Changping": "昌平"}
LON0, LON1, LAT0, LAT1 = 116.0, 116.8, 39.6, 40.2


def iso(epoch):
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_dt(text):
    """Epoch seconds (float) of an ISO 8601 date-time in UTC ('Z')."""
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?Z", text)
    if not m:
        raise ValueError(text)
    d = datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5)),
                 int(m.group(6)), tzinfo=timezone.utc)
    return d.timestamp() + (float(m.group(7)) if m.group(7) else 0.0)


T0 = parse_dt("2024-03-01T00:00:00Z")


def prop(value, **extra):
    out = {"type": "Property", "value": value}
    out.update(extra)
    return out


def rel(obj, **extra):
    out = {"type": "Relationship", "object": obj}
    out.update(extra)
    return out


def geo(geometry):
    return {"type": "GeoProperty", "value": geometry}


class City:
    """The seeded random city: entities as the normalized JSON sent to the server."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.entities = {}            # id -> normalized entity (the oracle's truth)
        self.used_suffixes = set()
        self.device_ids = []
        self.group_ids = ["urn:ngsi-ld:StreetlightGroup:g%02d" % i for i in range(12)]
        self.serial = 0

    # -- pieces ----------------------------------------------------------------------------

    def point(self):
        r = self.rng
        return [round(r.uniform(LON0, LON1), 6), round(r.uniform(LAT0, LAT1), 6)]

    def new_id(self, type_name, district):
        while True:
            n = self.rng.randrange(10000)
            suffix = "%s:%s-%04d" % (type_name, district.lower(), n)
            if suffix not in self.used_suffixes:
                self.used_suffixes.add(suffix)
                return "urn:ngsi-ld:" + suffix

    def scopes(self, district):
        r = self.rng
        roll = r.random()
        if roll < 0.15:
            return None
        subs = SUBAREAS[district]
        first = "/Beijing/" + district + ("/" + r.choice(subs) if subs and r.random() < 0.6 else "")
        if roll > 0.93:
            other = r.choice(DISTRICTS)
            return [first, "/Beijing/" + other + ("/" + SUBAREAS[other][0] if SUBAREAS[other] else "")]
        if roll > 0.9:
            return [first, "/Hebei/Langfang"]
        return first

    def address(self, district):
        r = self.rng
        a = {"addressLocality": district, "postalCode": "1000%02d" % r.randrange(40),
             "streetAddress": r.choice(STREETS)}
        if r.random() < 0.5:
            a["details"] = {"floor": r.randrange(1, 30), "wing": r.choice(["A", "B", "C"])}
        return a

    def observed(self):
        return iso(T0 + self.rng.randrange(0, 3 * 86400))

    def polygon_ring(self, cx, cy, radius, n=None):
        """A simple (star-shaped) ring around (cx, cy), closed, counterclockwise."""
        r = self.rng
        n = n or r.randrange(4, 9)
        # jittered even angles: every gap is below pi, so the ring is star-shaped around the
        # centre, hence simple
        step = 2 * math.pi / n
        angles = [k * step + r.uniform(-0.35, 0.35) * step for k in range(n)]
        ring = []
        for a in angles:
            rr = radius * r.uniform(0.55, 1.0)
            ring.append([round(cx + rr * math.cos(a) / math.cos(math.radians(cy)), 6), round(cy + rr * math.sin(a), 6)])
        ring.append(list(ring[0]))
        return ring

    # -- entity kinds ----------------------------------------------------------------------

    def air_quality(self, district=None):
        r = self.rng
        district = district or r.choice(DISTRICTS)
        eid = self.new_id("AirQualityObserved", district)
        e = {"id": eid, "type": "AirQualityObserved"}
        if r.random() < 0.04:
            e["type"] = ["AirQualityObserved", "WeatherObserved"]
        if r.random() < 0.9:
            pm25 = prop(round(r.uniform(1, 300), 1), unitCode="GQ", observedAt=self.observed())
            if r.random() < 0.6:
                pm25["accuracy"] = prop(round(r.uniform(0, 1), 2))
            if r.random() < 0.2:
                pm25["measuredBy"] = rel(r.choice(self.device_ids) if self.device_ids else "urn:ngsi-ld:Device:none")
            e["pm25"] = pm25
        if r.random() < 0.85:
            e["pm10"] = prop(r.randrange(5, 500))
        if r.random() < 0.9:
            e["no2"] = prop(r.choice([r.randrange(1, 200), round(r.uniform(1, 200), 1)]))
        if r.random() < 0.95:
            e["category"] = prop(r.choice(CATEGORIES))
        if r.random() < 0.8:
            e["reliable"] = prop(r.random() < 0.7)
        if r.random() < 0.7:
            e["stationName"] = {"type": "LanguageProperty",
                                "languageMap": {"en": "%s station %d" % (district, r.randrange(100)),
                                                "zh": "%s站" % ZH[district]}}
        if r.random() < 0.8:
            e["address"] = prop(self.address(district))
        if r.random() < 0.7 and self.device_ids:
            e["refDevice"] = rel(r.choice(self.device_ids))
        roll = r.random()
        if roll < 0.3:
            e["temperature"] = [prop(round(r.uniform(-10, 35), 1), datasetId="urn:ngsi-ld:Dataset:sensorA"),
                                prop(round(r.uniform(-10, 35), 1), datasetId="urn:ngsi-ld:Dataset:sensorB")]
        elif roll < 0.6:
            e["temperature"] = prop(round(r.uniform(-10, 35), 1))
        if r.random() < 0.5:
            e["dateObserved"] = prop({"@type": "DateTime", "@value": self.observed()})
        if r.random() < 0.97:
            e["location"] = geo({"type": "Point", "coordinates": self.point()})
        s = self.scopes(district)
        if s:
            e["scope"] = s
        return e

    def device(self):
        r = self.rng
        district = r.choice(DISTRICTS)
        eid = self.new_id("Device", district)
        e = {"id": eid, "type": "Device",
             "deviceState": prop(r.choice(["ok", "error", "maintenance"]), observedAt=self.observed())}
        if r.random() < 0.05:
            e["type"] = ["Device", "Streetlight"]
        if r.random() < 0.9:
            e["batteryLevel"] = prop(round(r.random(), 3))
        e["controlledProperty"] = prop(r.choice(["pm25", "noise", "temperature", "humidity"]))
        if r.random() < 0.6:
            e["lastMaintenance"] = prop(self.observed())  # a date-time in a plain string
        if r.random() < 0.95:
            e["location"] = geo({"type": "Point", "coordinates": self.point()})
        if r.random() < 0.3:
            c = self.point()
            if r.random() < 0.5:
                e["coverage"] = geo({"type": "Point", "coordinates": c})
            else:
                e["coverage"] = geo({"type": "Polygon", "coordinates": [self.polygon_ring(c[0], c[1], 0.01)]})
        s = self.scopes(district)
        if s:
            e["scope"] = s
        return e

    def streetlight(self):
        r = self.rng
        district = r.choice(DISTRICTS)
        e = {"id": self.new_id("Streetlight", district), "type": "Streetlight",
             "powerState": prop(r.choice(["on", "off"])),
             "illuminanceLevel": prop(round(r.uniform(0, 1), 2), unitCode="C62"),
             "refStreetlightGroup": rel(r.choice(self.group_ids)),
             "location": geo({"type": "Point", "coordinates": self.point()})}
        if r.random() < 0.5:
            e["address"] = prop(self.address(district))
        s = self.scopes(district)
        if s:
            e["scope"] = s
        return e

    def road(self):
        r = self.rng
        district = r.choice(DISTRICTS)
        x, y = self.point()
        pts = [[x, y]]
        heading = r.uniform(0, 2 * math.pi)
        for _ in range(r.randrange(1, 6)):
            heading += r.uniform(-0.6, 0.6)
            step = r.uniform(0.004, 0.025)  # at most ~2.8 km per segment
            x = round(min(LON1, max(LON0, x + step * math.cos(heading) / math.cos(math.radians(y)))), 6)
            y = round(min(LAT1, max(LAT0, y + step * math.sin(heading))), 6)
            pts.append([x, y])
        e = {"id": self.new_id("Road", district), "type": "Road",
             "name": prop("Road %d" % r.randrange(1, 300)), "laneCount": prop(r.randrange(1, 7)),
             "location": geo({"type": "LineString", "coordinates": pts})}
        s = self.scopes(district)
        if s:
            e["scope"] = s
        return e

    def park(self):
        r = self.rng
        district = r.choice(DISTRICTS)
        cx, cy = self.point()
        radius = r.uniform(0.005, 0.03)
        if r.random() < 0.15:
            cx2, cy2 = cx + 3 * radius + 0.01, cy + 0.5 * radius
            g = {"type": "MultiPolygon", "coordinates": [[self.polygon_ring(cx, cy, radius)],
                                                          [self.polygon_ring(cx2, cy2, radius * 0.8)]]}
        else:
            g = {"type": "Polygon", "coordinates": [self.polygon_ring(cx, cy, radius)]}
        e = {"id": self.new_id("Park", district), "type": "Park", "name": prop("%s Park" % district),
             "area": prop(round(r.uniform(1, 500), 1)), "location": geo(g)}
        s = self.scopes(district)
        if s:
            e["scope"] = s
        return e

    def generate(self, counts):
        made = []
        for _ in range(counts["Device"]):
            made.append(self.device())
        self.device_ids = [e["id"] for e in made]
        for kind, n in (("AirQualityObserved", counts["AirQualityObserved"]), ("Streetlight", counts["Streetlight"]),
                        ("Road", counts["Road"]), ("Park", counts["Park"])):
            for _ in range(n):
                made.append({"AirQualityObserved": self.air_quality, "Streetlight": self.streetlight,
                             "Road": self.road, "Park": self.park}[kind]())
        for e in made:
            self.entities[e["id"]] = e
        return made


def types_of(e):
    return e["type"] if isinstance(e["type"], list) else [e["type"]]


def scopes_of(e):
    s = e.get("scope")
    return [] if s is None else (s if isinstance(s, list) else [s])


# ============================================================================================
# q: the expressions generated, rendered as text and evaluated in Python
# ============================================================================================

class Path:
    """attr, attr.sub (a sub-attribute or observedAt), attr[key.key]."""

    def __init__(self, attr, sub=None, keys=None):
        self.attr, self.sub, self.keys = attr, sub, keys or []

    def text(self):
        s = self.attr
        if self.sub:
            s += "." + self.sub
        if self.keys:
            s += "[" + ".".join(self.keys) + "]"
        return s


_MISSING = object()


def classify(v):
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, (int, float)):
        return ("num", v)
    if isinstance(v, str):
        return ("str", v)
    if isinstance(v, dict) and v.get("@type") == "DateTime" and isinstance(v.get("@value"), str):
        return ("dt", parse_dt(v["@value"]))
    return ("other", v)


def targets(entity, path):
    """The typed values the path designates in the entity, one per attribute instance; a
    LanguageProperty's strings are one multi-valued target (as the elements of an array)."""
    attr = entity.get(path.attr)
    if attr is None:
        return []
    out = []
    for inst in (attr if isinstance(attr, list) else [attr]):
        if path.sub == "observedAt":
            if "observedAt" in inst:
                out.append(("dt", parse_dt(inst["observedAt"])))
            continue
        if path.sub in ("unitCode", "datasetId"):
            if path.sub in inst:
                out.append(("str", inst[path.sub]))
            continue
        if path.sub:
            inst = inst.get(path.sub)
            if not isinstance(inst, dict):
                continue
        kind = inst.get("type")
        if kind == "LanguageProperty" and not path.keys:
            out.append(("multi", [("str", v) for v in inst["languageMap"].values()]))
            continue
        if kind == "Relationship":
            v = inst["object"]
        elif kind in ("Property", "GeoProperty"):
            v = inst["value"]
        else:
            continue
        for k in path.keys:
            v = v.get(k, _MISSING) if isinstance(v, dict) else _MISSING
        if v is _MISSING:
            continue
        out.append(classify(v))
    return out


def render_value(v):
    kind, x = v
    if kind == "num":
        return repr(x) if isinstance(x, float) else str(x)
    if kind == "str":
        return '"' + x + '"'
    if kind == "bool":
        return "true" if x else "false"
    if kind == "dt":
        return iso(x)
    if kind == "uri":
        return x
    raise ValueError(kind)


def same_kind(query_kind, target_kind):
    if query_kind == "uri":
        return target_kind == "str"
    return query_kind == target_kind


class Term:
    """attr OP value | attr OP list | attr OP a..b | attr ~= re | attr !~= re | attr | !attr"""

    def __init__(self, path, op, value=None):
        self.path, self.op, self.value = path, op, value  # value: (kind,x) | ("list",[..]) | ("range",a,b) | regex

    def text(self):
        p = self.path.text()
        if self.op == "exists":
            return p
        if self.op == "notexists":
            return "!" + p
        if self.op in ("~=", "!~="):
            return p + self.op + self.value
        v = self.value
        if v[0] == "list":
            rhs = ",".join(render_value(x) for x in v[1])
        elif v[0] == "range":
            rhs = render_value(v[1]) + ".." + render_value(v[2])
        else:
            rhs = render_value(v)
        return p + self.op + rhs

    def matches(self, entity):
        if self.op == "exists":
            return self.path.attr in entity if not (self.path.sub or self.path.keys) else bool(targets(entity, self.path))
        if self.op == "notexists":
            return not (self.path.attr in entity if not (self.path.sub or self.path.keys) else targets(entity, self.path))
        ts = targets(entity, self.path)
        return any(self.match_one(t) for t in ts)

    def match_one(self, t):
        """One target. A multi-valued one (the strings of a LanguageProperty) matches a positive
        operator when any value does, and != or !~= when no value contradicts it."""
        if t[0] == "multi":
            if self.op in ("!=", "!~="):
                positive = Term(self.path, "==" if self.op == "!=" else "~=", self.value)
                comparable = [v for v in t[1] if positive.comparable(v)]
                return bool(comparable) and not any(positive.match_one(v) for v in comparable)
            return any(self.match_one(v) for v in t[1])
        return self.match_scalar(t)

    def comparable(self, t):
        if isinstance(self.value, str):
            return t[0] == "str"
        return all(same_kind(k, t[0]) for k in self.query_kinds())

    def match_scalar(self, t):
        tk, tv = t
        if tk == "str" and self.query_kinds() == {"dt"}:
            try:  # a date-time in a string compares with date-times as an instant
                tk, tv = "dt", parse_dt(tv)
            except ValueError:
                return False
        if self.op in ("~=", "!~="):
            if tk != "str":
                return False
            found = re.search(self.value, tv) is not None
            return found if self.op == "~=" else not found
        v = self.value
        if v[0] == "list":
            if not all(same_kind(x[0], tk) for x in v[1]):
                return False
            hit = any(tv == x[1] for x in v[1])
            return hit if self.op == "==" else not hit
        if v[0] == "range":
            if not (same_kind(v[1][0], tk) and same_kind(v[2][0], tk)):
                return False
            hit = v[1][1] <= tv <= v[2][1]
            return hit if self.op == "==" else not hit
        if not same_kind(v[0], tk):
            return False
        x = v[1]
        return {"==": tv == x, "!=": tv != x, ">": tv > x, ">=": tv >= x, "<": tv < x, "<=": tv <= x}[self.op]


    def query_kinds(self):
        v = self.value
        if isinstance(v, str):
            return {"regex"}
        if v[0] == "list":
            return {x[0] for x in v[1]}
        if v[0] == "range":
            return {v[1][0], v[2][0]}
        return {v[0]}


class Logic:
    def __init__(self, op, parts):
        self.op, self.parts = op, parts  # op ";" (and) or "|" (or)

    def text(self):
        return self.op.join(("(" + p.text() + ")") if isinstance(p, Logic) else p.text() for p in self.parts)

    def matches(self, entity):
        if self.op == ";":
            return all(p.matches(entity) for p in self.parts)
        return any(p.matches(entity) for p in self.parts)


# ============================================================================================
# Scopes and types
# ============================================================================================

def scope_term_matches(term, scope):
    """One scopeQ term against one scope: '/a/b' exactly, '+' one level, a trailing '#' the scope
    and everything below it ('/#' every scope)."""
    t = term.strip("/").split("/") if term != "/#" else ["#"]
    s = scope.strip("/").split("/")
    for i, seg in enumerate(t):
        if seg == "#":
            return True
        if i >= len(s):
            return False
        if seg != "+" and seg != s[i]:
            return False
    return len(t) == len(s)


def scope_matches(expr, entity):
    """expr: ('or', [('and', [terms])])"""
    scopes = scopes_of(entity)
    return any(all(any(scope_term_matches(t, s) for s in scopes) for t in conj) for conj in expr)


def scope_text(expr):
    return ",".join(";".join(conj) for conj in expr)  # "," OR, ";" AND


def type_expr_matches(expr, types):
    """expr: a type name, ('or', [..]) or ('and', [..])."""
    if isinstance(expr, str):
        return expr in types
    op, parts = expr
    return (all if op == "and" else any)(type_expr_matches(p, types) for p in parts)


def type_expr_text(expr, top=True, comma=False):
    if isinstance(expr, str):
        return expr
    op, parts = expr
    sep = ";" if op == "and" else ("," if comma and top else "|")
    inner = sep.join(type_expr_text(p, False) for p in parts)
    return inner if top else "(" + inner + ")"


# ============================================================================================
# Geometry: Vincenty on WGS84 for distances, the lon/lat plane for the other relations
# ============================================================================================

WGS84_A = 6378137.0
WGS84_F = 1 / 298.257223563
WGS84_B = WGS84_A * (1 - WGS84_F)


def vincenty(lon1, lat1, lon2, lat2):
    if lon1 == lon2 and lat1 == lat2:
        return 0.0
    f = WGS84_F
    L = math.radians(lon2 - lon1)
    U1 = math.atan((1 - f) * math.tan(math.radians(lat1)))
    U2 = math.atan((1 - f) * math.tan(math.radians(lat2)))
    sinU1, cosU1, sinU2, cosU2 = math.sin(U1), math.cos(U1), math.sin(U2), math.cos(U2)
    lam = L
    for _ in range(200):
        sinlam, coslam = math.sin(lam), math.cos(lam)
        sin_sigma = math.hypot(cosU2 * sinlam, cosU1 * sinU2 - sinU1 * cosU2 * coslam)
        if sin_sigma == 0:
            return 0.0
        cos_sigma = sinU1 * sinU2 + cosU1 * cosU2 * coslam
        sigma = math.atan2(sin_sigma, cos_sigma)
        sin_alpha = cosU1 * cosU2 * sinlam / sin_sigma
        cos2_alpha = 1 - sin_alpha * sin_alpha
        cos_2sm = cos_sigma - 2 * sinU1 * sinU2 / cos2_alpha if cos2_alpha else 0.0
        C = f / 16 * cos2_alpha * (4 + f * (4 - 3 * cos2_alpha))
        prev = lam
        lam = L + (1 - C) * f * sin_alpha * (sigma + C * sin_sigma * (cos_2sm + C * cos_sigma * (-1 + 2 * cos_2sm ** 2)))
        if abs(lam - prev) < 1e-13:
            break
    u2 = cos2_alpha * (WGS84_A ** 2 - WGS84_B ** 2) / WGS84_B ** 2
    A = 1 + u2 / 16384 * (4096 + u2 * (-768 + u2 * (320 - 175 * u2)))
    B = u2 / 1024 * (256 + u2 * (-128 + u2 * (74 - 47 * u2)))
    d_sigma = B * sin_sigma * (cos_2sm + B / 4 * (cos_sigma * (-1 + 2 * cos_2sm ** 2) -
                                                  B / 6 * cos_2sm * (-3 + 4 * sin_sigma ** 2) * (-3 + 4 * cos_2sm ** 2)))
    return WGS84_B * A * (sigma - d_sigma)


def components(g):
    """A GeoJSON geometry as ('pt', p) / ('line', pts) / ('poly', rings) parts (tuples of floats)."""
    t, c = g["type"], g["coordinates"]
    if t == "Point":
        return [("pt", tuple(c[:2]))]
    if t == "MultiPoint":
        return [("pt", tuple(p[:2])) for p in c]
    if t == "LineString":
        return [("line", [tuple(p[:2]) for p in c])]
    if t == "MultiLineString":
        return [("line", [tuple(p[:2]) for p in ls]) for ls in c]
    if t == "Polygon":
        return [("poly", [[tuple(p[:2]) for p in ring] for ring in c])]
    if t == "MultiPolygon":
        return [("poly", [[tuple(p[:2]) for p in ring] for ring in poly]) for poly in c]
    raise ValueError(t)


def dimension(kind):
    return {"pt": 0, "line": 1, "poly": 2}[kind]


def orient(a, b, c):
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def segments_cross(p1, p2, q1, q2):
    d1, d2 = orient(q1, q2, p1), orient(q1, q2, p2)
    d3, d4 = orient(p1, p2, q1), orient(p1, p2, q2)
    return ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0)) and d1 and d2 and d3 and d4


def point_in_ring(p, ring):
    x, y = p
    inside = False
    n = len(ring)
    for i in range(n - 1):
        (x1, y1), (x2, y2) = ring[i], ring[i + 1]
        if (y1 > y) != (y2 > y):
            xi = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if xi > x:
                inside = not inside
    return inside


def point_in_poly(p, rings):
    return point_in_ring(p, rings[0]) and not any(point_in_ring(p, h) for h in rings[1:])


def edges(kind, body):
    if kind == "line":
        return list(zip(body, body[1:]))
    if kind == "poly":
        return [e for ring in body for e in zip(ring, ring[1:])]
    return []


def vertices(kind, body):
    if kind == "pt":
        return [body]
    if kind == "line":
        return body
    return [p for ring in body for p in ring]


def any_crossing(ka, a, kb, b):
    ea, eb = edges(ka, a), edges(kb, b)
    return any(segments_cross(p1, p2, q1, q2) for p1, p2 in ea for q1, q2 in eb)


def comp_intersects(ka, a, kb, b):
    if ka == "pt" and kb == "pt":
        return a == b
    if ka == "pt" or kb == "pt":
        p, (k, body) = (a, (kb, b)) if ka == "pt" else (b, (ka, a))
        return point_in_poly(p, body) if k == "poly" else p in body  # a point on a line: only at a vertex
    if any_crossing(ka, a, kb, b):
        return True
    if kb == "poly" and any(point_in_poly(p, b) for p in vertices(ka, a)):
        return True
    if ka == "poly" and any(point_in_poly(p, a) for p in vertices(kb, b)):
        return True
    return False


def comp_within(ka, a, kb, b):
    """a within b (generic position: nothing on a boundary, except identical geometries)."""
    if (ka, a) == (kb, b):
        return True
    if kb != "poly":
        return False
    if ka == "pt":
        return point_in_poly(a, b)
    return all(point_in_poly(p, b) for p in vertices(ka, a)) and not any_crossing(ka, a, kb, b)


def relation(rel, entity_geom, query_geom):
    A, B = components(entity_geom), components(query_geom)
    if rel == "equals":
        return canonical(entity_geom) == canonical(query_geom)
    inter = any(comp_intersects(ka, a, kb, b) for ka, a in A for kb, b in B)
    if rel == "intersects":
        return inter
    if rel == "disjoint":
        return not inter

    def within(X, Y):
        return all(any(comp_within(kx, x, ky, y) for ky, y in Y) for kx, x in X)

    if rel == "within":
        return within(A, B)
    if rel == "contains":
        return within(B, A)
    if rel == "overlaps":
        dims = {dimension(k) for k, _ in A} | {dimension(k) for k, _ in B}
        if len(dims) != 1 or dims == {0} or dims == {1}:
            return False  # different dimensions; points and lines in generic position never overlap
        if canonical(entity_geom) == canonical(query_geom):
            return False
        return inter and not within(A, B) and not within(B, A)
    raise ValueError(rel)


def canonical(g):
    return json.dumps(components(g))


def seg_distance(p, a, b):
    """Geodesic distance from p to the segment a-b (its geodesic; segments here are a few km, where
    it departs from the straight lon/lat line by well under a metre): golden-section search."""
    f = lambda t: vincenty(p[0], p[1], a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))  # noqa: E731
    lo, hi = 0.0, 1.0
    g = (math.sqrt(5) - 1) / 2
    x1, x2 = hi - g * (hi - lo), lo + g * (hi - lo)
    f1, f2 = f(x1), f(x2)
    for _ in range(48):
        if f1 < f2:
            hi, x2, f2 = x2, x1, f1
            x1 = hi - g * (hi - lo)
            f1 = f(x1)
        else:
            lo, x1, f1 = x1, x2, f2
            x2 = lo + g * (hi - lo)
            f2 = f(x2)
    return min(f1, f2, f(0.0), f(1.0))


def approx_m(p, q):
    """Planar approximation of the distance in metres (good to ~1% over tens of km here)."""
    lat = math.radians((p[1] + q[1]) / 2)
    ky = 111132.954 - 559.822 * math.cos(2 * lat) + 1.175 * math.cos(4 * lat)
    kx = 111412.84 * math.cos(lat) - 93.5 * math.cos(3 * lat)
    return math.hypot((q[0] - p[0]) * kx, (q[1] - p[1]) * ky)


def approx_seg_m(p, a, b):
    lat = math.radians(p[1])
    ky = 111132.954 - 559.822 * math.cos(2 * lat)
    kx = 111412.84 * math.cos(lat)
    ax, ay = (a[0] - p[0]) * kx, (a[1] - p[1]) * ky
    bx, by = (b[0] - p[0]) * kx, (b[1] - p[1]) * ky
    dx, dy = bx - ax, by - ay
    L = dx * dx + dy * dy
    t = 0.0 if L == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / L))
    return math.hypot(ax + t * dx, ay + t * dy)


def near_class(point, geometry, threshold):
    """(-1 | 0 | +1): the entity geometry is closer than `threshold`, too close to tell, or farther.
    Points: Vincenty (sub-millimetre). Lines and polygons: exact where it matters, with a band of
    max(1 m, 0.1%) around the threshold where the answer is not asserted."""
    comps = components(geometry)
    if all(k == "pt" for k, _ in comps):
        d = min(vincenty(point[0], point[1], p[0], p[1]) for _, p in comps)
        if abs(d - threshold) < 1e-3:
            return 0
        return -1 if d < threshold else 1
    best_approx = float("inf")
    for k, body in comps:
        if k == "poly" and point_in_poly(point, body):
            return -1 if threshold > 0 else 0
        for a, b in edges(k, body):
            best_approx = min(best_approx, approx_seg_m(point, a, b))
        for p in vertices(k, body):
            best_approx = min(best_approx, approx_m(point, p))
    if best_approx < threshold * 0.97:
        return -1
    if best_approx > threshold * 1.03:
        return 1
    d = float("inf")
    for k, body in comps:
        for a, b in edges(k, body):
            d = min(d, seg_distance(point, a, b))
        if k == "pt":
            d = min(d, vincenty(point[0], point[1], body[0], body[1]))
    if abs(d - threshold) <= max(1.0, threshold * 0.001):
        return 0
    return -1 if d < threshold else 1


class GeoQ:
    def __init__(self, georel, geometry, geoproperty=None):
        self.georel, self.geometry, self.geoproperty = georel, geometry, geoproperty

    def rel_name(self):
        return self.georel.split(";")[0]

    def params(self):
        p = {"georel": self.georel, "geometry": self.geometry["type"],
             "coordinates": json.dumps(self.geometry["coordinates"], separators=(",", ":"))}
        if self.geoproperty:
            p["geoproperty"] = self.geoproperty
        return p

    def body(self):
        b = {"geometry": self.geometry["type"], "coordinates": self.geometry["coordinates"], "georel": self.georel}
        if self.geoproperty:
            b["geoproperty"] = self.geoproperty
        return b

    def classify(self, entity):
        """1: matches, 0: too close to the threshold to tell, -1: does not match."""
        attr = entity.get(self.geoproperty or "location")
        if attr is None:
            return -1
        insts = attr if isinstance(attr, list) else [attr]
        best = -1
        for inst in insts:
            if inst.get("type") != "GeoProperty":
                continue
            g = inst["value"]
            rel = self.rel_name()
            if rel == "near":
                kind, n = self.georel.split(";")[1].split("==")
                c = near_class(self.geometry["coordinates"], g, float(n))
                r = (1 if c < 0 else (-1 if c > 0 else 0)) if kind == "maxDistance" else \
                    (-1 if c < 0 else (1 if c > 0 else 0))
            else:
                r = 1 if relation(rel, g, self.geometry) else -1
            best = max(best, r)
        return best


# ============================================================================================
# Queries
# ============================================================================================

class Query:
    def __init__(self, label, types=None, ids=None, id_pattern=None, q=None, scope=None, geoq=None, attrs=None,
                 type_comma=False):
        self.label = label
        self.types, self.ids, self.id_pattern, self.q = types, ids, id_pattern, q
        self.scope, self.geoq, self.attrs, self.type_comma = scope, geoq, attrs, type_comma

    def describe(self):
        parts = []
        for k, v in self.params().items():
            parts.append("%s=%s" % (k, v))
        return "&".join(parts)

    def params(self):
        p = {}
        if self.types is not None:
            p["type"] = type_expr_text(self.types, comma=self.type_comma)
        if self.ids:
            p["id"] = ",".join(self.ids)
        if self.id_pattern:
            p["idPattern"] = self.id_pattern
        if self.q is not None:
            p["q"] = self.q.text()
        if self.scope:
            p["scopeQ"] = scope_text(self.scope)
        if self.attrs:
            p["attrs"] = ",".join(self.attrs)
        if self.geoq:
            p.update(self.geoq.params())
        return p

    def can_post(self):
        return self.types is not None and not self.ids

    def post_body(self):
        sel = {"type": type_expr_text(self.types, comma=self.type_comma)}
        if self.id_pattern:
            sel["idPattern"] = self.id_pattern
        b = {"type": "Query", "entities": [sel]}
        if self.q is not None:
            b["q"] = self.q.text()
        if self.scope:
            b["scopeQ"] = scope_text(self.scope)
        if self.attrs:
            b["attrs"] = list(self.attrs)
        if self.geoq:
            b["geoQ"] = self.geoq.body()
        return b

    def evaluate(self, entities):
        """(sure ids in order, unsure ids): unsure ones are within the distance tolerance band."""
        sure, unsure = [], set()
        pattern = re.compile(self.id_pattern) if self.id_pattern else None
        for eid in sorted(entities):
            e = entities[eid]
            if self.types is not None and not type_expr_matches(self.types, types_of(e)):
                continue
            if self.ids and eid not in self.ids:
                continue
            if pattern and not pattern.search(eid):
                continue
            if self.attrs and not any(a in e for a in self.attrs):
                continue
            if self.scope and not scope_matches(self.scope, e):
                continue
            if self.q is not None and not self.q.matches(e):
                continue
            if self.geoq:
                c = self.geoq.classify(e)
                if c < 0:
                    continue
                if c == 0:
                    unsure.add(eid)
                    continue
            sure.append(eid)
        return sure, unsure


def url(params):
    return "/ngsi-ld/v1/entities?" + "&".join(
        "%s=%s" % (k, urllib.parse.quote(str(v), safe=",:/")) for k, v in params.items())


class QueryMaker:
    """Random queries whose values are drawn mostly from the data, so that boundaries are hit."""

    def __init__(self, rng, city):
        self.r = rng
        self.city = city
        ents = list(city.entities.values())
        self.values = {}
        for e in ents:
            for name in ("pm25", "pm10", "no2", "batteryLevel", "laneCount", "area", "illuminanceLevel"):
                for kind, v in targets(e, Path(name)):
                    if kind == "num":
                        self.values.setdefault(name, []).append(v)
        self.obs = sorted(t[1] for e in ents for t in targets(e, Path("pm25", "observedAt")))
        self.lastm = sorted(parse_dt(e["lastMaintenance"]["value"]) for e in ents if "lastMaintenance" in e)
        self.dobs = sorted(t[1] for e in ents for t in targets(e, Path("dateObserved")))
        self.points = [e["location"]["value"]["coordinates"] for e in ents
                       if "location" in e and e["location"]["value"]["type"] == "Point"]
        self.parks = [e for e in ents if "Park" in types_of(e)]
        self.roads = [e for e in ents if "Road" in types_of(e)]

    def num(self, name):
        r = self.r
        vals = self.values[name]
        if r.random() < 0.6:
            return ("num", r.choice(vals))
        lo, hi = min(vals), max(vals)
        x = r.uniform(lo, hi)
        return ("num", int(x) if all(isinstance(v, int) for v in vals[:50]) else round(x, 2))

    def term(self, kind=None):
        r = self.r
        kind = kind or r.choice(["num", "num", "num", "range", "list", "str", "strcmp", "bool", "regex", "rel",
                                 "sub", "observedAt", "compound", "exists", "dateTime", "multi", "lang", "meta",
                                 "strdate"])
        ops = ["==", "!=", ">", ">=", "<", "<="]
        if kind == "num":
            name = r.choice(["pm25", "pm10", "no2", "batteryLevel", "laneCount", "area", "illuminanceLevel"])
            op = r.choice(ops)
            return Term(Path(name), op, ("num", r.choice(self.values[name])) if op == "==" else self.num(name))
        if kind == "range":
            name = r.choice(["pm25", "pm10", "no2", "batteryLevel"])
            a, b = sorted([self.num(name)[1], self.num(name)[1]])
            return Term(Path(name), r.choice(["==", "=="] + ["!="]), ("range", ("num", a), ("num", b)))
        if kind == "list":
            name = r.choice(["pm10", "laneCount", "category", "deviceState"])
            if name in ("category", "deviceState"):
                pool = CATEGORIES if name == "category" else ["ok", "error", "maintenance"]
                vals = [("str", v) for v in r.sample(pool, r.randrange(2, 4))]
            else:
                vals = [("num", v) for v in r.sample(self.values[name], 3)]
            return Term(Path(name), r.choice(["==", "!="]), ("list", vals))
        if kind == "str":
            name, pool = r.choice([("category", CATEGORIES), ("deviceState", ["ok", "error", "maintenance"]),
                                   ("powerState", ["on", "off"]), ("controlledProperty", ["pm25", "noise", "humidity"])])
            return Term(Path(name), r.choice(["==", "!="]), ("str", r.choice(pool)))
        if kind == "strcmp":
            name = r.choice(["category", "deviceState", "name"])
            pivot = r.choice(["m", "good", "h", "very", "Road 1", "Road 5", "error", "Haidian Park", "G"])
            if r.random() < 0.3:
                lo, hi = sorted([pivot, r.choice(["a", "moderate", "t", "z", "Road 3"])])
                return Term(Path(name), r.choice(["==", "!="]), ("range", ("str", lo), ("str", hi)))
            return Term(Path(name), r.choice([">", ">=", "<", "<="]), ("str", pivot))
        if kind == "bool":
            return Term(Path("reliable"), r.choice(["==", "!="]), ("bool", r.random() < 0.5))
        if kind == "regex":
            name, pats = r.choice([("category", ["^mod", "healthy$", "very", "^[gG]ood$", "o{2}", "d.r"]),
                                   ("name", ["^Road 1[0-9]$", "Park$", "^(?:Haidian|Chaoyang) ", "Road [0-9]{3}"]),
                                   ("deviceState", ["^e", "n"])])
            pat = r.choice(pats)
            if "(" in pat or "|" in pat:  # keep parentheses and bars out of unparenthesized positions
                pat = r.choice(["Park$", "^Road 2", "[5-9]$"])
            return Term(Path(name), r.choice(["~=", "!~="]), pat)
        if kind == "rel":
            if r.random() < 0.5:
                target = r.choice(self.city.device_ids)
                ents = [e for e in self.city.entities.values() if e.get("refDevice", {}).get("object") == target]
                v = ("uri", target) if r.random() < 0.5 else ("str", target)
                if r.random() < 0.3:
                    return Term(Path("refDevice"), "==", ("list", [v, ("uri", r.choice(self.city.device_ids))]))
                return Term(Path("refDevice"), r.choice(["==", "==", "!="]) if ents else "==", v)
            g = r.choice(self.city.group_ids)
            return Term(Path("refStreetlightGroup"), r.choice(["==", "!="]), ("uri", g))
        if kind == "sub":
            if r.random() < 0.2:
                return Term(Path("pm25", "accuracy"), "exists")
            return Term(Path("pm25", "accuracy"), r.choice(ops), ("num", round(r.uniform(0, 1), 2)))
        if kind == "observedAt":
            attr = r.choice(["pm25", "pm25", "deviceState"])
            op = r.choice([">", ">=", "<", "<=", "==", "!="])
            t = r.choice(self.obs) if (op in ("==", "!=") or r.random() < 0.5) else T0 + r.randrange(0, 3 * 86400)
            return Term(Path(attr, "observedAt"), op, ("dt", t))
        if kind == "dateTime":
            t = r.choice(self.dobs) if r.random() < 0.5 else T0 + r.randrange(0, 3 * 86400)
            if r.random() < 0.2:
                return Term(Path("dateObserved"), "==", ("range", ("dt", t), ("dt", t + 86400)))
            return Term(Path("dateObserved"), r.choice([">", ">=", "<", "<=", "=="]), ("dt", t))
        if kind == "compound":
            roll = r.random()
            if roll < 0.4:
                return Term(Path("address", keys=["addressLocality"]), r.choice(["==", "!="]), ("str", r.choice(DISTRICTS)))
            if roll < 0.6:
                return Term(Path("address", keys=["streetAddress"]), "==", ("str", r.choice(STREETS)))
            if roll < 0.8:
                return Term(Path("address", keys=["details", "floor"]), r.choice(ops), ("num", r.randrange(1, 30)))
            return Term(Path("address", keys=["postalCode"]), r.choice([">", "<", "=="]), ("str", "1000%02d" % r.randrange(40)))
        if kind == "exists":
            name = r.choice(["pm10", "pm25", "stationName", "refDevice", "temperature", "coverage", "address",
                             "dateObserved", "noSuchAttribute"])
            return Term(Path(name), r.choice(["exists", "notexists"]))
        if kind == "lang":
            if r.random() < 0.5:
                return Term(Path("stationName"), r.choice(["~=", "!~="]), r.choice(["站$", "^Haidian ", "station [1-3]"]))
            d = r.choice(DISTRICTS)
            return Term(Path("stationName"), r.choice(["==", "!="]), ("str", r.choice(["%s站" % ZH[d], d])))
        if kind == "meta":
            if r.random() < 0.5:
                return Term(Path("pm25", "unitCode"), r.choice(["==", "!="]), ("str", r.choice(["GQ", "C62"])))
            return Term(Path("temperature", "datasetId"), r.choice(["==", "!="]),
                        ("uri", r.choice(["urn:ngsi-ld:Dataset:sensorA", "urn:ngsi-ld:Dataset:sensorB"])))
        if kind == "strdate":
            t = r.choice(self.lastm) if r.random() < 0.5 else T0 + r.randrange(0, 3 * 86400)
            if r.random() < 0.2:
                return Term(Path("lastMaintenance"), r.choice(["==", "!="]), ("range", ("dt", t), ("dt", t + 43200)))
            return Term(Path("lastMaintenance"), r.choice([">", ">=", "<", "<=", "=="]), ("dt", t))
        if kind == "multi":
            return Term(Path("temperature"), r.choice([">", ">=", "<", "<=", "=="]), ("num", round(r.uniform(-10, 35), 1)))
        raise ValueError(kind)

    def q(self, depth=0):
        r = self.r
        if depth >= 2 or r.random() < 0.45:
            return self.term()
        parts = [self.q(depth + 1) for _ in range(r.randrange(2, 4))]
        return Logic(r.choice([";", "|"]), parts)

    def type_expr(self):
        r = self.r
        names = ["AirQualityObserved", "Device", "Streetlight", "Road", "Park", "WeatherObserved"]
        roll = r.random()
        if roll < 0.5:
            return r.choice(names), False
        if roll < 0.7:
            return ("or", r.sample(names, r.randrange(2, 4))), r.random() < 0.5
        if roll < 0.8:
            return ("and", r.choice([["Device", "Streetlight"], ["AirQualityObserved", "WeatherObserved"],
                                     ["Park", "Road"]])), False
        if roll < 0.9:
            return ("or", [("and", ["AirQualityObserved", "WeatherObserved"]), r.choice(["Park", "Road"])]), False
        return ("and", [("or", ["Device", "AirQualityObserved"]), ("or", ["Streetlight", "WeatherObserved"])]), False

    def scope(self):
        r = self.r
        d = r.choice(DISTRICTS)
        subs = SUBAREAS[d]
        terms = ["/Beijing/%s" % d, "/Beijing/%s/#" % d, "/Beijing/+", "/Beijing/+/%s" % (subs[0] if subs else "X"),
                 "/#", "/Hebei/#", "/Beijing/%s/%s" % (d, subs[0] if subs else "none"), "/Beijing"]
        roll = r.random()
        if roll < 0.6:
            return [[r.choice(terms)]]
        if roll < 0.8:
            return [[r.choice(terms)], [r.choice(terms)]]
        return [[r.choice(terms), r.choice(["/Hebei/Langfang", "/Beijing/#", "/Beijing/%s/#" % r.choice(DISTRICTS)])]]

    def geo(self, rel=None):
        r = self.r
        rel = rel or r.choice(["near_max", "near_max", "near_min", "within", "within", "contains", "intersects",
                        "intersects", "equals", "disjoint", "overlaps"])
        gp = None
        if rel == "near_max":
            p = r.choice(self.points) if r.random() < 0.3 else self.city.point()
            n = r.choice([300, 800, 1500, 3000, 6000])
            if r.random() < 0.15:
                gp = "coverage"
            return GeoQ("near;maxDistance==%d" % n, {"type": "Point", "coordinates": list(p)}, gp)
        if rel == "near_min":
            p = self.city.point()
            return GeoQ("near;minDistance==%d" % r.choice([25000, 35000, 45000]), {"type": "Point", "coordinates": p})
        if rel == "overlaps" and r.random() < 0.6:
            # a square around a vertex of a park: it overlaps that park (unless it swallows it whole)
            park = r.choice(self.parks)
            vx, vy = r.choice(components(park["location"]["value"])[0][1][0][:-1])
            h = r.uniform(0.004, 0.02)
            ring = [[round(vx - h, 6), round(vy - h, 6)], [round(vx + h, 6), round(vy - h, 6)],
                    [round(vx + h, 6), round(vy + h, 6)], [round(vx - h, 6), round(vy + h, 6)],
                    [round(vx - h, 6), round(vy - h, 6)]]
            return GeoQ("overlaps", {"type": "Polygon", "coordinates": [ring]})
        if rel in ("within", "intersects", "disjoint", "overlaps"):
            cx, cy = self.city.point()
            roll = r.random()
            if rel == "intersects" and roll < 0.3:
                pts = [self.city.point() for _ in range(r.randrange(2, 4))]
                g = {"type": "LineString", "coordinates": pts}
            elif roll < 0.55:
                w, h = r.uniform(0.03, 0.2), r.uniform(0.03, 0.15)
                ring = [[round(cx - w, 6), round(cy - h, 6)], [round(cx + w, 6), round(cy - h, 6)],
                        [round(cx + w, 6), round(cy + h, 6)], [round(cx - w, 6), round(cy + h, 6)],
                        [round(cx - w, 6), round(cy - h, 6)]]
                if r.random() < 0.5:
                    ring.reverse()  # clockwise: the server turns it round
                g = {"type": "Polygon", "coordinates": [ring]}
            elif roll < 0.85:
                g = {"type": "Polygon", "coordinates": [self.city.polygon_ring(cx, cy, r.uniform(0.03, 0.15), n=r.randrange(5, 12))]}
            else:
                g = {"type": "MultiPolygon", "coordinates": [
                    [self.city.polygon_ring(cx, cy, 0.06)], [self.city.polygon_ring(cx + 0.25, cy + 0.02, 0.05)]]}
            if rel == "within" and r.random() < 0.15:
                gp = "coverage"
            return GeoQ(rel, g, gp)
        if rel == "contains":
            if r.random() < 0.6 and self.parks:
                park = r.choice(self.parks)
                comps = components(park["location"]["value"])
                ring = comps[0][1][0]
                # the centroid of a star-shaped ring's vertices is inside it
                cx = sum(p[0] for p in ring[:-1]) / (len(ring) - 1)
                cy = sum(p[1] for p in ring[:-1]) / (len(ring) - 1)
                return GeoQ("contains", {"type": "Point", "coordinates": [round(cx, 6), round(cy, 6)]})
            return GeoQ("contains", {"type": "Point", "coordinates": list(r.choice(self.points))})
        if rel == "equals":
            roll = r.random()
            if roll < 0.4:
                return GeoQ("equals", {"type": "Point", "coordinates": list(r.choice(self.points))})
            if roll < 0.7 and self.parks:
                return GeoQ("equals", json.loads(json.dumps(r.choice(self.parks)["location"]["value"])))
            return GeoQ("equals", json.loads(json.dumps(r.choice(self.roads)["location"]["value"])))
        raise ValueError(rel)

    def make(self, n):
        r = self.r
        out = []
        # every q operator alone, a few times each
        for kind in ["num", "range", "list", "str", "strcmp", "bool", "regex", "rel", "sub", "observedAt", "compound",
                     "exists", "dateTime", "multi", "lang", "meta", "strdate"]:
            for _ in range(4):
                out.append(Query("q " + kind, q=self.term(kind)))
        for op in ["==", "!=", ">", ">=", "<", "<="]:
            out.append(Query("q num " + op, q=Term(Path("pm25"), op, ("num", r.choice(self.values["pm25"])))))
        # combinations
        for _ in range(30):
            out.append(self.nonempty(lambda: Query("q combined", q=Logic(r.choice([";", "|"]), [self.q(1), self.q(1)]))))
        for _ in range(8):
            t, comma = self.type_expr()
            out.append(Query("type", types=t, type_comma=comma))
        out.append(Query("type list", types=("or", ["Park", "Road"]), type_comma=True))
        out.append(Query("type and", types=("and", ["Device", "Streetlight"])))
        out.append(Query("type expression", types=("or", [("and", ["AirQualityObserved", "WeatherObserved"]), "Park"])))
        out.append(Query("type unknown", types="Nothing"))
        for _ in range(6):
            ids = r.sample(sorted(self.city.entities), r.randrange(1, 6)) + ["urn:ngsi-ld:Nothing:%d" % r.randrange(9)]
            r.shuffle(ids)
            out.append(Query("id list", ids=ids, types=r.choice([None, None, "Device", "AirQualityObserved"])))
        for pat in ["chaoyang-00[0-4]", "^urn:ngsi-ld:Park:", "Road:.*7$", "(?i)HAIDIAN-1", "-(12|34)", "x^", ":d"]:
            out.append(Query("idPattern", id_pattern=pat))
        for _ in range(6):
            out.append(Query("attrs", attrs=r.sample(["pm10", "coverage", "stationName", "laneCount", "temperature",
                                                      "noSuchAttribute", "refDevice", "area"], r.randrange(1, 3))))
        for _ in range(14):
            out.append(Query("scopeQ", scope=self.scope()))
        for rel in ["near_max", "near_max", "near_min", "within", "contains", "intersects", "equals", "disjoint",
                    "overlaps"] * 4:
            g = self.geo(rel)
            out.append(Query("geo " + g.rel_name(), geoq=g))
        # everything together
        while len(out) < n:
            def mixed():
                t, comma = self.type_expr() if r.random() < 0.7 else (None, False)
                return Query("mixed", types=t, type_comma=comma,
                             q=self.q() if r.random() < 0.8 else None,
                             scope=self.scope() if r.random() < 0.25 else None,
                             geoq=self.geo() if r.random() < 0.4 else None,
                             id_pattern=r.choice([None, None, None, "-0", "[13579]$"]),
                             attrs=r.sample(["pm10", "location", "category", "deviceState"], 1) if r.random() < 0.15 else None)
            out.append(self.nonempty(mixed))
        return out

    def nonempty(self, make, tries=8):
        """A query that selects something (most of the time: after `tries`, whatever comes)."""
        for _ in range(tries):
            q = make()
            if q.evaluate(self.city.entities)[0]:
                return q
        return q


# ============================================================================================
# Talking to the server
# ============================================================================================

class Runner:
    def __init__(self, t, server, verbose=False):
        self.t, self.server, self.verbose = t, server, verbose
        self.requests = 0

    def get(self, path, tenant):
        self.requests += 1
        h = {"NGSILD-Tenant": tenant} if tenant else {}
        return self.server.request("GET", path, h)

    def post_json(self, path, body, tenant):
        self.requests += 1
        h = dict(JSON)
        if tenant:
            h["NGSILD-Tenant"] = tenant
        return self.server.request("POST", path, h, json.dumps(body))

    def ids_of(self, r, what):
        try:
            body = r.json()
        except ValueError:
            self.t.fail("%s: JSON body" % what, "a JSON array", r.text()[:300])
            return None
        if not isinstance(body, list) or not all(isinstance(e, dict) and "id" in e for e in body):
            self.t.fail("%s: body" % what, "an array of entities", body)
            return None
        return [e["id"] for e in body]

    def fetch_all(self, query, tenant, use_post, what):
        """Every result of the query (pages of 1000), and the count; None on a failed request."""
        out, offset, count = [], 0, None
        extra = {"limit": 1000, "count": "true", "options": "keyValues"}
        while True:
            extra["offset"] = offset
            if use_post:
                path = "/ngsi-ld/v1/entityOperations/query?" + urllib.parse.urlencode(extra)
                r = self.post_json(path, query.post_body(), tenant)
            else:
                params = dict(query.params())
                params.update(extra)
                r = self.get(url(params), tenant)
            if not self.t.expect_status(r, 200, what):
                return None, None, None
            ids = self.ids_of(r, what)
            if ids is None:
                return None, None, None
            c = r.header("NGSILD-Results-Count")
            if not self.t.expect(c is not None and c.isdigit(), "%s: NGSILD-Results-Count header" % what, "a number", c):
                return None, None, None
            count = int(c) if offset == 0 else count
            out += ids
            body = r.json()
            if query.attrs:
                bad = [e for e in body if set(e) - {"id", "type", "scope"} - set(query.attrs)]
                self.t.expect(not bad, "%s: attrs=%s renders only those attributes" % (what, ",".join(query.attrs)),
                              "only id, type, scope and %s" % query.attrs, bad[:2])
            offset += 1000
            if offset >= count:
                return out, count, body


def check_query(t, runner, query, entities, tenant, use_post, n):
    what = "[%s #%d %s%s] %s" % (tenant or "default", n, "POST " if use_post else "", query.label,
                                  json.dumps(query.post_body()) if use_post else query.describe())
    started = time.monotonic()
    got, count, _ = runner.fetch_all(query, tenant, use_post, what)
    server_s = time.monotonic() - started
    if got is None:
        return False
    sure, unsure = query.evaluate(entities)
    ok = True
    t.checks += 1
    if len(set(got)) != len(got):
        t.fail(what + ": an id is repeated", "no repeats", [i for i in got if got.count(i) > 1][:5])
        ok = False
    shown = [i for i in got if i not in unsure]
    if shown != sure:
        missing = [i for i in sure if i not in set(got)]
        extra = [i for i in shown if i not in set(sure)]
        order = "" if (missing or extra) else " (same ids, other order)"
        t.fail(what + ": ids" + order,
               "%d ids%s" % (len(sure), (" (+%d within the distance tolerance)" % len(unsure)) if unsure else ""),
               "%d ids; missing %s; unexpected %s" % (len(got), missing[:8], extra[:8]))
        ok = False
        if missing or extra:
            sample = (missing + extra)[0]
            print("      e.g. %s: %s" % (sample, json.dumps(entities.get(sample), ensure_ascii=False)[:1500]), flush=True)
    lo, hi = len(sure), len(sure) + len(unsure)
    if ok:
        ok = t.expect(lo <= count <= hi, what + ": NGSILD-Results-Count", "%d" % lo if lo == hi else "%d..%d" % (lo, hi), count)
    if runner.verbose:
        print("    %s %-70s %4d results %.3f s" % ("ok " if ok else "BAD", what[:70], len(got), server_s), flush=True)
    return ok


def run_queries(t, runner, queries, entities, tenant, label, post_every=4):
    started = time.monotonic()
    failed = 0
    for n, q in enumerate(queries, 1):
        use_post = q.can_post() and n % post_every == 0
        if not check_query(t, runner, q, entities, tenant, use_post, n):
            failed += 1
    t.step("%s: %d queries on %d entities (%s), %d wrong, %.1f s" % (
        label, len(queries), len(entities), tenant, failed, time.monotonic() - started))
    return failed


def batch(t, runner, op, items, tenant, ok_status, what, options=None):
    path = "/ngsi-ld/v1/entityOperations/" + op + ("?options=" + options if options else "")
    for i in range(0, len(items), 100):
        chunk = items[i:i + 100]
        r = runner.post_json(path, chunk, tenant)
        if not t.expect_status(r, ok_status, "%s (%d items)" % (what, len(chunk))):
            return False
    return True


# ============================================================================================
# Paging while the population changes
# ============================================================================================

def paging_check(t, runner, entities, tenant, query, label, mutate):
    """Pages of 100 through `query` over the tenant whose content is `entities` (kept up to date by
    `mutate`); before pages 2, 4 and 6, `mutate(returned_so_far)` changes the population and returns
    the ids it created, deleted or modified. Every match that stayed unchanged must come exactly
    once, pages concatenated in id order; whatever is returned must exist and match the query."""
    original, _ = query.evaluate(entities)
    changed, deleted_at = set(), {}
    returned = []
    offset, page_no, count = 0, 0, None
    params = dict(query.params())
    while True:
        page_no += 1
        if page_no in (2, 4, 6):
            changes = mutate(returned)
            changed |= changes
            for eid in changes:
                if eid not in entities:
                    deleted_at.setdefault(eid, page_no)
        params.update({"limit": 100, "offset": offset, "count": "true", "options": "keyValues"})
        r = runner.get(url(params), tenant)
        what = "paging %s page %d (offset %d)" % (label, page_no, offset)
        if not t.expect_status(r, 200, what):
            return
        ids = runner.ids_of(r, what)
        if ids is None:
            return
        t.expect(len(ids) <= 100, what + ": at most limit entities", "<= 100", len(ids))
        c = int(r.header("NGSILD-Results-Count", "0"))
        if count is None:
            count = c
            t.expect_equal(count, len(original), "paging %s: count on the first page" % label)
        for eid in ids:
            if not t.expect(eid in entities, what + ": a returned entity exists", "an existing entity",
                            "%s (deleted before page %s)" % (eid, deleted_at.get(eid))):
                continue
            s, _ = Query("one", types=query.types, q=query.q, geoq=query.geoq, id_pattern=query.id_pattern,
                         scope=query.scope, attrs=query.attrs).evaluate({eid: entities[eid]})
            t.expect(s == [eid], what + ": a returned entity matches the query now", "matches", eid)
        returned += ids
        offset += 100
        if offset >= max(count, c) or page_no > 60:
            break
    dupes = sorted({i for i in returned if returned.count(i) > 1})
    t.expect(not dupes, "paging %s: no entity repeated" % label, "none", dupes[:10])
    t.expect(returned == sorted(returned), "paging %s: the pages concatenated are in id order" % label,
             "ascending ids", [(a, b) for a, b in zip(returned, returned[1:]) if a >= b][:3])
    unchanged = [i for i in original if i not in changed]
    missing = [i for i in unchanged if i not in set(returned)]
    t.expect(not missing, "paging %s: every unchanged entity returned" % label,
             "all %d unchanged matches" % len(unchanged), "%d missing, e.g. %s" % (len(missing), missing[:8]))
    t.step("paging %s: %d pages, %d ids returned, %d matched at first, %d changed meanwhile" % (
        label, page_no, len(returned), len(original), len(changed)))


class PagingMutator:
    """Between pages: deletes matches ahead of the last page and behind it, creates new matches
    (ids anywhere in the order), and changes a few matches ahead so that they no longer match."""

    def __init__(self, t, runner, city, tenant, rng, make, unmatch):
        self.t, self.runner, self.city, self.tenant, self.rng = t, runner, city, tenant, rng
        self.make, self.unmatch = make, unmatch  # make() -> new matching entity; unmatch(e) -> update fragment
        self.query = None

    def __call__(self, returned):
        t, rng, city = self.t, self.rng, self.city
        matching, _ = self.query.evaluate(city.entities)
        last = returned[-1] if returned else ""
        ahead = [i for i in matching if i > last]
        behind = [i for i in matching if i <= last]
        victims = rng.sample(ahead, min(7, len(ahead))) + rng.sample(behind, min(5, len(behind)))
        rest = [i for i in ahead if i not in victims]
        turned = [self.unmatch(city.entities[i]) for i in rng.sample(rest, min(4, len(rest)))]
        news = [self.make() for _ in range(12)]
        ok = batch(t, self.runner, "delete", victims, self.tenant, 204, "paging: batch delete")
        ok &= batch(t, self.runner, "create", news, self.tenant, 201, "paging: batch create")
        ok &= batch(t, self.runner, "update", turned, self.tenant, 204, "paging: batch update that unmatches")
        for eid in victims:
            del city.entities[eid]
        for e in news:
            city.entities[e["id"]] = e
        for frag in turned:
            city.entities[frag["id"]].update({k: v for k, v in frag.items() if k != "id"})
        return set(victims) | {e["id"] for e in news} | {f["id"] for f in turned}


# ============================================================================================

def main():
    ap = test_arguments(__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--queries", type=int, default=230, help="queries per pass")
    ap.add_argument("--verbose", action="store_true", help="print every query")
    args = ap.parse_args()
    t = Checker("query_bruteforce_test (seed %d)" % args.seed)
    started = time.monotonic()
    city = City(args.seed)
    made = city.generate({"Device": 500, "AirQualityObserved": 1050, "Streetlight": 520, "Road": 70, "Park": 50})
    small_ids = sorted(city.entities)[::8]
    small = {i: json.loads(json.dumps(city.entities[i])) for i in small_ids}  # its own copy: the big one changes
    rng = random.Random(args.seed + 1)
    queries = QueryMaker(rng, city).make(args.queries)
    t.step("city: %d entities (big tenant), %d (small tenant); %d queries" % (len(city.entities), len(small), len(queries)))

    with Server(args.binary, keep=args.keep) as server:
        runner = Runner(t, server, args.verbose)
        probe = runner.get("/ngsi-ld/v1/entities?type=AirQualityObserved", "")
        if probe.status == 405:
            t.fail("GET /ngsi-ld/v1/entities?type=X is not implemented by this binary", "200", "405")
            return t.finish()

        # -- load -------------------------------------------------------------------------
        order = list(made)
        rng.shuffle(order)
        if not batch(t, runner, "upsert", order, BIG, 201, "batch upsert into %s" % BIG):
            return t.finish()
        if not batch(t, runner, "upsert", [city.entities[i] for i in small_ids], SMALL, 201, "batch upsert into %s" % SMALL):
            return t.finish()
        r = runner.get("/ngsi-ld/v1/entities?limit=0&count=true", BIG)
        t.expect(r.status == 200 and r.header("NGSILD-Results-Count") == str(len(city.entities)),
                 "the big tenant holds every entity", str(len(city.entities)),
                 "%d %s" % (r.status, r.header("NGSILD-Results-Count")))
        t.step("loaded in %.1f s" % (time.monotonic() - started))

        # -- the default tenant and an unknown one -----------------------------------------
        r = runner.get(url({"type": "AirQualityObserved"}), "")
        t.expect(r.status == 200 and r.json() == [], "default tenant (never written): empty result", "200 []",
                 "%d %s" % (r.status, r.text()[:200]))
        r = runner.get(url({"type": "AirQualityObserved"}), "nosuchcity")
        t.expect_problem(r, 404, "NonexistentTenant", "query in a tenant never written")

        # -- pass 1: big (indexes) and small (scan) ----------------------------------------
        run_queries(t, runner, queries, city.entities, BIG, "pass 1, indexed tenant")
        run_queries(t, runner, queries, small, SMALL, "pass 1, small tenant", post_every=3)

        # paging without changes, and GeoJSON
        for q in [Query("all AirQualityObserved", types="AirQualityObserved"),
                  Query("pm25>120", q=Term(Path("pm25"), ">", ("num", 120)))]:
            expected, _ = q.evaluate(city.entities)
            got, params = [], dict(q.params())
            for offset in range(0, len(expected) + 100, 100):
                params.update({"limit": 100, "offset": offset})
                r = runner.get(url(params), BIG)
                if not t.expect_status(r, 200, "pages of %s" % q.label):
                    break
                got += runner.ids_of(r, "pages of " + q.label) or []
            t.expect(got == expected, "pages of 100 through %s concatenate to the whole result" % q.label,
                     "%d ids in order" % len(expected), "%d ids, first difference at %s" % (
                         len(got), next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))))
        # the default page is 20; an offset alone starts anywhere
        q = Query("all Streetlight", types="Streetlight")
        expected, _ = q.evaluate(city.entities)
        r = runner.get(url(q.params()), BIG)
        if t.expect_status(r, 200, "default page"):
            t.expect_equal(runner.ids_of(r, "default page"), expected[:20], "without limit: the first 20 matches")
        r = runner.get(url(dict(q.params(), offset=37, limit=50, count="true")), BIG)
        if t.expect_status(r, 200, "offset=37&limit=50"):
            t.expect_equal(runner.ids_of(r, "offset=37"), expected[37:87], "offset=37&limit=50: matches 37 to 86")
            t.expect_equal(r.header("NGSILD-Results-Count"), str(len(expected)), "offset=37&limit=50: count")
        headers_geo = {"NGSILD-Tenant": BIG, "Accept": "application/geo+json"}
        rg = server.request("GET", url({"type": "Park", "limit": 1000, "options": "keyValues"}), headers_geo)
        if t.expect_status(rg, 200, "GeoJSON query"):
            fc = rg.json()
            parks, _ = Query("parks", types="Park").evaluate(city.entities)
            t.expect(fc.get("type") == "FeatureCollection", "GeoJSON query: a FeatureCollection", "FeatureCollection", fc.get("type"))
            feats = fc.get("features") or []
            t.expect_equal([f.get("id") for f in feats], parks, "GeoJSON query: the features, in id order")
            t.expect_equal([f.get("geometry") for f in feats], [city.entities[p]["location"]["value"] for p in parks],
                           "GeoJSON query: each feature's geometry is its location")
            t.expect(all(f.get("type") == "Feature" for f in feats), "GeoJSON query: every item is a Feature")

        # -- changes through batch operations; indexes must follow -------------------------
        mrng = random.Random(args.seed + 2)
        aqo = sorted(i for i, e in city.entities.items() if "AirQualityObserved" in types_of(e))
        devices = sorted(i for i, e in city.entities.items() if "Device" in types_of(e))
        lights = sorted(i for i, e in city.entities.items() if types_of(e) == ["Streetlight"])
        upserts = []
        for eid in mrng.sample(aqo, 150):
            frag = {"id": eid, "type": city.entities[eid]["type"],
                    "pm25": prop(round(mrng.uniform(1, 300), 1), unitCode="GQ", observedAt=city.observed(),
                                 accuracy=prop(round(mrng.uniform(0, 1), 2))),
                    "category": prop(mrng.choice(CATEGORIES))}
            upserts.append(frag)
            city.entities[eid].update({k: v for k, v in frag.items() if k not in ("id", "type")})
        updates = []
        for eid in mrng.sample(devices, 100):
            frag = {"id": eid, "location": geo({"type": "Point", "coordinates": city.point()}),
                    "deviceState": prop(mrng.choice(["ok", "error", "maintenance"]), observedAt=city.observed())}
            updates.append(frag)
            city.entities[eid].update({k: v for k, v in frag.items() if k != "id"})
        # one instance (datasetId sensorA) of a multi-instance attribute: sensorB stays
        for eid in mrng.sample([i for i in aqo if isinstance(city.entities[i].get("temperature"), list)], 40):
            inst = prop(round(mrng.uniform(-10, 35), 1), datasetId="urn:ngsi-ld:Dataset:sensorA")
            updates.append({"id": eid, "temperature": inst})
            e = city.entities[eid]
            e["temperature"] = [inst] + [i for i in e["temperature"] if i.get("datasetId") != inst["datasetId"]]
        # a type added by an update-mode upsert (types merge)
        for eid in mrng.sample([i for i in devices if types_of(city.entities[i]) == ["Device"] and i not in
                                {u["id"] for u in upserts + updates}], 25):
            frag = {"id": eid, "type": ["Device", "Streetlight"], "powerState": prop("on")}
            upserts.append(frag)
            city.entities[eid]["type"] = ["Device", "Streetlight"]
            city.entities[eid]["powerState"] = frag["powerState"]
        replaced = []
        for eid in mrng.sample(lights, 60):
            e = {"id": eid, "type": "Streetlight", "powerState": prop(mrng.choice(["on", "off"])),
                 "location": geo({"type": "Point", "coordinates": city.point()}),
                 "scope": "/Beijing/%s" % mrng.choice(DISTRICTS)}  # given: whether a replace keeps an omitted scope is batch.session's business
            replaced.append(e)
            city.entities[eid] = e
        gone = mrng.sample(sorted(set(city.entities) - {u["id"] for u in upserts + updates + replaced}), 90)
        for eid in gone:
            del city.entities[eid]
        fresh = [city.air_quality() for _ in range(70)] + [city.device() for _ in range(20)] + [city.park() for _ in range(5)]
        for e in fresh:
            city.entities[e["id"]] = e
        ok = batch(t, runner, "upsert", upserts, BIG, 204, "batch upsert (options=update) of existing entities", "update")
        ok &= batch(t, runner, "update", updates, BIG, 204, "batch update")
        ok &= batch(t, runner, "upsert", replaced, BIG, 204, "batch upsert (replace) of existing entities")
        ok &= batch(t, runner, "delete", gone, BIG, 204, "batch delete")
        ok &= batch(t, runner, "create", fresh, BIG, 201, "batch create")
        if ok:
            run_queries(t, runner, queries, city.entities, BIG, "pass 2, indexed tenant after batch changes", post_every=5)

        # -- paging through changes ---------------------------------------------------------
        prng = random.Random(args.seed + 3)

        def new_station():
            e = city.air_quality()
            e["pm10"] = prop(prng.randrange(100, 400))
            return e

        def new_device():
            e = city.device()
            e["batteryLevel"] = prop(round(prng.uniform(0.1, 1), 3))
            return e

        cases = [
            (Query("type", types="AirQualityObserved", q=Term(Path("pm10"), ">=", ("num", 60))),
             new_station, lambda e: {"id": e["id"], "pm10": prop(1)}),
            (Query("q", types="Device", q=Term(Path("batteryLevel"), ">=", ("num", 0.05))),
             new_device, lambda e: {"id": e["id"], "batteryLevel": prop(0.01)}),
            (Query("near", geoq=GeoQ("near;maxDistance==60000", {"type": "Point", "coordinates": [116.4, 39.9]}),
                   types=("or", ["Device", "Streetlight"])),
             new_device, lambda e: {"id": e["id"], "location": geo({"type": "Point", "coordinates": [117.9, 41.5]})}),
        ]
        for q, make, unmatch in cases:
            mutator = PagingMutator(t, runner, city, BIG, prng, make, unmatch)
            mutator.query = q
            paging_check(t, runner, city.entities, BIG, q, q.describe(), mutator)
        paging_check(t, runner, small, SMALL, Query("scan", q=Term(Path("location"), "exists")),
                     "small tenant, q=location, no changes", lambda returned: set())
        t.step("%d requests, %.1f s in all" % (runner.requests, time.monotonic() - started))
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
