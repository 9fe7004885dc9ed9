-- wrk script: the IdPs' lookup, GET /Users?filter=userName eq "…", over the
-- requests `scimload --lookups-out` wrote (file in LOOKUPS), each thread
-- starting at its own place. Every answer must be 200 with exactly one
-- user; wrk does not say which request an answer belongs to, so which user
-- it is goes unchecked here (scimload checks that).
local token = assert(os.getenv("BENCH_SCIM_TOKEN"), "BENCH_SCIM_TOKEN is not set")
local targets = {}
for line in io.lines((assert(os.getenv("LOOKUPS"), "LOOKUPS is not set"))) do
  targets[#targets + 1] = line:match("^([^\t]+)\t")
end
local headers = { ["Authorization"] = "Bearer " .. token, ["Accept"] = "application/scim+json" }

local threads = {}
function setup(thread)
  thread:set("first", #threads * 997)
  table.insert(threads, thread)
end

local i = 0
good, bad = 0, 0
function init(args)
  i = first
end

function request()
  i = i % #targets + 1
  return wrk.format("GET", targets[i], headers)
end

function response(status, headers, body)
  if status == 200 and body:find('"totalResults":1}', 1, true) and body:find('"userName":"', 1, true) then
    good = good + 1
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local g, b = 0, 0
  for _, t in ipairs(threads) do
    g, b = g + t:get("good"), b + t:get("bad")
  end
  io.write(string.format("checked: %d answers of one user, %d wrong\n", g, b))
end
