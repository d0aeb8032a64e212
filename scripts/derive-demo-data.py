#!/usr/bin/env python3
"""Derives the demo city's data files (data/demo/) from the public data sets in ../shared/data.

Run once by a maintainer; the outputs are committed with their provenance in data/demo/SOURCES.md, so the
demo never needs ../shared. Usage: scripts/derive-demo-data.py [/path/to/shared/data]
"""
import csv
import gzip
import io
import json
import math
import pathlib
import sys

SHARED = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[2] / "shared/data")
OUT = pathlib.Path(__file__).resolve().parents[1] / "data/demo"

# --- GCJ-02 (Chinese web-map offset) to WGS84 -------------------------------------------------------
# The district boundaries come in GCJ-02; stations and sensors are WGS84. GCJ-02 is WGS84 plus a
# published, smooth offset; inverting it by fixed-point iteration is accurate to well under a metre.
_A = 6378245.0
_EE = 0.00669342162296594323


def _offset(lon, lat):
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return dlon, dlat


def gcj02_to_wgs84(lon, lat):
    wlon, wlat = lon, lat
    for _ in range(4):
        dlon, dlat = _offset(wlon, wlat)
        wlon, wlat = lon - dlon, lat - dlat
    return round(wlon, 5), round(wlat, 5)


def convert(coords):
    if isinstance(coords[0], (int, float)):
        return list(gcj02_to_wgs84(coords[0], coords[1]))
    return [convert(c) for c in coords]


def districts():
    src = json.loads((SHARED / "china-district-geojson/110000_full.json").read_text())
    features = []
    for f in src["features"]:
        p = f["properties"]
        features.append({
            "type": "Feature",
            "properties": {"adcode": p["adcode"], "name": p["name"],
                           "centroid": list(gcj02_to_wgs84(*p["centroid"]))},
            "geometry": {"type": f["geometry"]["type"], "coordinates": convert(f["geometry"]["coordinates"])},
        })
    (OUT / "beijing-districts.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, separators=(",", ":")))
    return len(features)


def _short(v):
    text = f"{v:.3f}".rstrip("0").rstrip(".")
    return text if text else "0"


def _write_gzip(path, text):
    # mtime=0: the same input gives the same bytes, so a re-derivation shows no spurious change.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as out:
        out.write(text.encode())


POLLUTANTS = ["PM2.5", "PM10", "SO2", "NO2", "CO", "O3"]


def beijing_air_year(first=(2016, 3, 1), last=(2017, 2, 28)):
    """One year of hourly readings of the 12 stations: time (Beijing), station, the six pollutants."""
    rows = []
    for path in sorted((SHARED / "beijing-air").glob("PRSA_Data_*.csv")):
        for r in csv.DictReader(open(path)):
            day = (int(r["year"]), int(r["month"]), int(r["day"]))
            if first <= day <= last:
                rows.append((day, int(r["hour"]), r["station"], [r[p] for p in POLLUTANTS]))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    text = io.StringIO(newline="")
    w = csv.writer(text, lineterminator="\n")
    w.writerow(["time", "station", "pm25", "pm10", "so2", "no2", "co", "o3"])
    for (y, m, d), h, station, values in rows:
        w.writerow([f"{y:04d}-{m:02d}-{d:02d}T{h:02d}", station] + ["" if v == "NA" else v for v in values])
    _write_gzip(OUT / "beijing-air-2016-03_2017-02.csv.gz", text.getvalue())
    return len(rows)


def la_traffic(days=7):
    base = SHARED / "tgcn-traffic"
    sensors = list(csv.DictReader(open(base / "graph_sensor_locations.csv")))
    with open(OUT / "la-traffic-sensors.csv", "w", newline="") as out:
        w = csv.writer(out)
        w.writerow(["sensor_id", "latitude", "longitude"])
        for s in sensors:
            w.writerow([s["sensor_id"], s["latitude"], s["longitude"]])
    # Speeds: METR-LA starts 2012-03-01 00:00 Los Angeles time (08:00 UTC) in 5-minute steps; keep `days` days.
    rows = list(csv.reader(open(base / "los_speed.csv")))
    header, steps = rows[0], rows[1:1 + days * 288]
    # The whole week (all of los_speed.csv), gzipped; values rounded to 3 decimals (of a mph).
    text = io.StringIO(newline="")
    w = csv.writer(text, lineterminator="\n")
    w.writerow(["time"] + header)
    for i, r in enumerate(steps):
        minutes = 8 * 60 + i * 5
        day, minute_of_day = divmod(minutes, 24 * 60)
        w.writerow([f"2012-03-{1 + day:02d}T{minute_of_day // 60:02d}:{minute_of_day % 60:02d}:00Z"] +
                   [_short(float(v)) for v in r])
    _write_gzip(OUT / "la-traffic-speeds.csv.gz", text.getvalue())
    # A road graph for dispatch: a LineString between sensors that the adjacency matrix links strongly
    # (its weights are a Gaussian kernel of road distance), with the median free-flow speed of its ends.
    adj = list(csv.reader(open(base / "los_adj.csv")))
    free_flow = []
    for j in range(len(header)):
        speeds = sorted(float(r[j]) for r in steps if float(r[j]) > 0)
        free_flow.append(speeds[int(len(speeds) * 0.85)] if speeds else 40.0)
    features = []
    for i, row in enumerate(adj):
        for j, v in enumerate(row):
            if i < j and (float(v) >= 0.5 or float(adj[j][i]) >= 0.5):
                a, b = sensors[i], sensors[j]
                mph = (free_flow[i] + free_flow[j]) / 2
                features.append({
                    "type": "Feature",
                    "properties": {"from": a["sensor_id"], "to": b["sensor_id"], "speed": round(mph * 1.609344, 1)},
                    "geometry": {"type": "LineString", "coordinates": [
                        [float(a["longitude"]), float(a["latitude"])], [float(b["longitude"]), float(b["latitude"])]]},
                })
    (OUT / "la-roads.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features},
                                                     separators=(",", ":")))
    return len(sensors), len(steps), len(features)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    print("districts", districts())
    print("la sensors, steps, road links", la_traffic())
    print("beijing air rows", beijing_air_year())
