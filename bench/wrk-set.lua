-- wrk script: POST /api/v1/set with a JSON body over a bounded key space; the key count is the first script argument.
local keys = 10000
local next_key = 0
local value = string.rep("v", 64)
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  keys = tonumber(args[1]) or keys
end

function request()
  next_key = (next_key + 7919) % keys
  local body = '{"key":"bench-' .. next_key .. '","value":"' .. value .. '"}'
  return wrk.format("POST", "/api/v1/set", headers, body)
end
