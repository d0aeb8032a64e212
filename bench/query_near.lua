-- wrk: geo-query near;maxDistance==1000 around a random point of the seeded area (lon 116.0-116.8, lat 39.6-40.2),
-- answering up to NEAR_LIMIT entities (default 1000: all ~700 matches at 1M entities). NEAR_DISTANCE (metres,
-- default 1000) widens the circle: 3200 at 100,000 entities gives about the 1M answer (~700 entities).
dofile((os.getenv("BENCH_DIR") or "bench") .. "/report.lua")
local limit = tonumber(os.getenv("NEAR_LIMIT") or "1000")
local distance = tonumber(os.getenv("NEAR_DISTANCE") or "1000")
request = function()
  local lon = 116.0 + math.random() * 0.8
  local lat = 39.6 + math.random() * 0.6
  return wrk.format("GET", string.format(
    "/ngsi-ld/v1/entities?type=Sensor&georel=near%%3BmaxDistance%%3D%%3D%d&geometry=Point&coordinates=%%5B%.5f,%.5f%%5D&limit=%d", distance, lon, lat, limit))
end
