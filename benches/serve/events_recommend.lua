-- wrk script: alternate POST /v1/events (one click of a new or running session) and POST
-- /v1/recommend for that session. Every thread walks its own session ids, so a long run touches many
-- distinct sessions (eviction by --max-sessions keeps memory flat). SESSION_CLICKS clicks per session.
-- EVENTS_ONLY=1 (the memory soak, serve_soak.sh): only POST /v1/events, each of a new session.
local lists = dofile(os.getenv("ITEMS_LUA"))
local per = tonumber(os.getenv("SESSION_CLICKS") or "5")
local events_only = os.getenv("EVENTS_ONLY") == "1"
local counter = 0
local threads = 0
-- `tid` is a global set per thread by setup() (a `local tid` here would shadow it: every thread
-- would then use the ids of thread 0).
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
request = function()
  counter = counter + 1
  if events_only then
    local body = '{"session":"' .. tid .. "-" .. counter .. '","items":[' .. lists[(counter % #lists) + 1] .. ']}'
    return wrk.format("POST", "/v1/events", {["Content-Type"] = "application/json"}, body)
  end
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
