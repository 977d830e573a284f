-- wrk script: every request is POST /v1/events with one click of a session never seen before (ids
-- `<thread>-<counter>`), so a run of N requests touches N distinct sessions and the store's LRU cap
-- (--max-sessions) must evict to keep memory flat. Items cycle through ITEMS_LUA.
local items = dofile(os.getenv("ITEMS_LUA"))
local counter = 0
local tid = 0
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
request = function()
  counter = counter + 1
  local body = '{"session":"' .. tid .. "-" .. counter .. '","items":[' .. items[(counter % #items) + 1] .. ']}'
  return wrk.format("POST", "/v1/events", {["Content-Type"] = "application/json"}, body)
end
