-- wrk: batch upsert of 100 entities x 10 attributes per request (/entityOperations/upsert).
dofile((os.getenv("BENCH_DIR") or "bench") .. "/report.lua")
local batch = 0
local function body(first)
  local parts = {}
  for i = 0, 99 do
    local id = first + i
    local attrs = {}
    for _, name in ipairs({"speed", "flow", "occupancy", "temperature", "humidity", "pm25", "pm10", "no2", "co"}) do
      attrs[#attrs + 1] = string.format('"%s":{"type":"Property","value":%.1f}', name, math.random() * 200)
    end
    attrs[#attrs + 1] = string.format('"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[%.5f,%.5f]}}',
      116.0 + math.random() * 0.8, 39.6 + math.random() * 0.6)
    parts[#parts + 1] = string.format('{"id":"urn:ngsi-ld:Upserted:%d","type":"Sensor",%s}', id, table.concat(attrs, ","))
  end
  return "[" .. table.concat(parts, ",") .. "]"
end
-- Bodies are made once per thread: the generator must not be what limits the rate.
local bodies = {}
init = function(args)
  for k = 1, 50 do bodies[k] = body((k - 1) * 100 + math.random(0, 1000) * 5000) end
end
request = function()
  batch = batch + 1
  return wrk.format("POST", "/ngsi-ld/v1/entityOperations/upsert", { ["Content-Type"] = "application/json" },
    bodies[(batch % #bodies) + 1])
end
