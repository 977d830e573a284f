-- wrk script: alternate POST /v1/events (one click of a new or running session) and POST
-- /v1/recommend for that session. Every thread walks its own session ids, so a long run touches many
-- distinct sessions (eviction by --max-sessions keeps memory flat). SESSION_CLICKS clicks per session.
local lists = dofile(os.getenv("ITEMS_LUA"))
local per = tonumber(os.getenv("SESSION_CLICKS") or "5")
local counter = 0
local tid = 0
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
request = function()
  counter = counter + 1
  local n = math.floor((counter - 1) / 2)
  local session = tid .. "-" .. math.floor(n / per)
  if counter % 2 == 1 then
    local item = lists[(n % #lists) + 1]
    local body = '{"session":"' .. session .. '","items":[' .. item .. ']}'
    return wrk.format("POST", "/v1/events", {["Content-Type"] = "application/json"}, body)
  end
  -- Ask for a session whose clicks were all sent a while ago: with several connections per thread,
  -- the event for the current session may still be in flight on another connection.
  local done = tid .. "-" .. math.max(0, math.floor(n / per) - 2)
  return wrk.format("POST", "/v1/recommend", {["Content-Type"] = "application/json"},
    '{"session":"' .. done .. '","k":20}')
end
