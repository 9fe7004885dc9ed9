-- wrk script: the IdPs' group push, PATCH /Groups/{id} adding a user to the
-- group scimload made (its standing members plus the users it adds and
-- removes), then removing it again, over the lines `scimload --members-out`
-- wrote (file in MEMBERS: the group's path, a tab, a user id). Each thread
-- works through users of its own. Every answer must be 200 (the group,
-- members included) or 204, as the tenant's preset says.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk-common.lua")
local group, users = nil, {}
for line in io.lines((assert(os.getenv("MEMBERS"), "MEMBERS is not set"))) do
  local g, u = line:match("^([^\t]+)\t(.+)$")
  group = g
  users[#users + 1] = u
end
local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/scim+json" }
local schemas = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":['

local n = 0
function request()
  local user = users[(tid * 500 + math.floor(n / 2)) % #users + 1]
  local op
  if n % 2 == 0 then
    op = '{"op":"add","path":"members","value":[{"value":"' .. user .. '"}]}'
  else
    op = '{"op":"remove","path":"members[value eq \\"' .. user .. '\\"]"}'
  end
  n = n + 1
  return wrk.format("PATCH", group, headers, schemas .. op .. "]}")
end

function response(status, headers, body)
  if status == 204 then
    good = good + 1
  elseif status == 200 and body:find('"members":[', 1, true) then
    good, bodies = good + 1, bodies + 1
  else
    bad = bad + 1
  end
end

report("%d answered (%d with the members), %d wrong")
