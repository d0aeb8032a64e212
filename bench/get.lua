-- wrk: GET entity by id, spread over N entities.
dofile((os.getenv("BENCH_DIR") or "bench") .. "/report.lua")
local entities = tonumber(os.getenv("BENCH_ENTITIES") or "100000")
request = function()
  local id = math.random(0, entities - 1)
  return wrk.format("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Sensor:" .. id)
end
