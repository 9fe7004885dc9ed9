-- wrk script: the IdPs' lookup, GET /Users?filter=userName eq "…", over the
-- requests `scimload --lookups-out` wrote (file in LOOKUPS), each thread
-- starting at its own place. Every answer must be 200 with exactly one
-- user; wrk does not say which request an answer belongs to, so which user
-- it is goes unchecked here (scimload checks that).
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk-common.lua")
local targets = {}
for line in io.lines((assert(os.getenv("LOOKUPS"), "LOOKUPS is not set"))) do
  targets[#targets + 1] = line:match("^([^\t]+)\t")
end
local headers = { ["Authorization"] = "Bearer " .. token, ["Accept"] = "application/scim+json" }

local i
function request()
  i = (i or tid * 997) % #targets + 1
  return wrk.format("GET", targets[i], headers)
end

function response(status, headers, body)
  if status == 200 and body:find('"totalResults":1}', 1, true) and body:find('"userName":"', 1, true) then
    good = good + 1
  else
    bad = bad + 1
  end
end

report("%d answers of one user%.0s, %d wrong")
