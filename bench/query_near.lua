-- wrk: geo-query near;maxDistance==1000 around a random point of the seeded area (lon 116.0-116.8, lat 39.6-40.2).
dofile((os.getenv("BENCH_DIR") or "bench") .. "/report.lua")
request = function()
  local lon = 116.0 + math.random() * 0.8
  local lat = 39.6 + math.random() * 0.6
  return wrk.format("GET", string.format(
    "/ngsi-ld/v1/entities?type=Sensor&georel=near%%3BmaxDistance%%3D%%3D1000&geometry=Point&coordinates=%%5B%.5f,%.5f%%5D&limit=1000", lon, lat))
end
