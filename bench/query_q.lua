-- wrk: query by type and a selective q (pm25 above a random threshold near the top of its 0-200 range).
dofile((os.getenv("BENCH_DIR") or "bench") .. "/report.lua")
request = function()
  local threshold = 199 + math.random() * 0.9
  return wrk.format("GET", "/ngsi-ld/v1/entities?type=Sensor&q=pm25%3E" .. string.format("%.2f", threshold) .. "&limit=100")
end
