-- wrk script: GET or SET over keys listed in a file, one per line; arguments: get|set, the file, how many of its keys to use.
local keys = {}
local count = 0
local next_key = 0
local mode = "get"
local value = string.rep("v", 64)
local headers = { ["Content-Type"] = "application/json" }

-- Every thread reads the list once, before the clock starts.
function init(args)
  mode = args[1] or mode
  local limit = tonumber(args[3]) or math.huge
  for line in io.lines(args[2]) do
    if count >= limit then break end
    if line ~= "" then
      count = count + 1
      keys[count] = line
    end
  end
  if count == 0 then error("wrk-keys.lua: no keys in " .. tostring(args[2])) end
end

-- A large prime step visits every key in a scrambled order without a random number per request.
-- The bench's keys need no escaping, in a path or in JSON.
function request()
  next_key = (next_key + 7919) % count
  local key = keys[next_key + 1]
  if mode == "get" then
    return wrk.format("GET", "/api/v1/get/" .. key)
  end
  return wrk.format("POST", "/api/v1/set", headers, '{"key":"' .. key .. '","value":"' .. value .. '"}')
end
