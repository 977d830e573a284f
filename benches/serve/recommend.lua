-- wrk script: POST /v1/recommend with an explicit click list, cycling through the click lists of
-- clicks.lua (written by serve_load.sh from the test sessions). Same body for cartseq and the twin.
local lists = dofile(os.getenv("CLICKS_LUA"))
local i = 0
request = function()
  i = i + 1
  local items = lists[(i % #lists) + 1]
  local body = '{"items":[' .. items .. '],"k":20}'
  return wrk.format("POST", "/v1/recommend", {["Content-Type"] = "application/json"}, body)
end
