-- wrk: single-attribute partial updates (PATCH /entities/{id}/attrs/speed) spread over N entities.
dofile((os.getenv("BENCH_DIR") or "bench") .. "/report.lua")
local entities = tonumber(os.getenv("BENCH_ENTITIES") or "100000")
local counter = 0
request = function()
  counter = counter + 1
  local id = math.random(0, entities - 1)
  return wrk.format("PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:Sensor:" .. id .. "/attrs/speed",
    { ["Content-Type"] = "application/json" }, '{"value":' .. (counter % 1000) / 10 .. '}')
end
