-- wrk script: GET /api/v1/get/bench-N over the keys the benchmark preloaded; the key count is the first script argument.
local keys = 1000
local next_key = 0

function init(args)
  keys = tonumber(args[1]) or keys
end

-- A large prime step visits every key in a scrambled order without a random number per request.
function request()
  next_key = (next_key + 7919) % keys
  return wrk.format("GET", "/api/v1/get/bench-" .. next_key)
end
