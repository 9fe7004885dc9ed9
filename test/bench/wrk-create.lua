-- wrk script: POST /Users of Okta-shaped users (scimload's body), each with
-- a userName of its own (RUN_ID, the thread, a counter). Every answer must
-- be 201 and carry a userName.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk-common.lua")
local base = assert(os.getenv("BASE_PATH"), "BASE_PATH is not set") -- /scim/v2/<tenant>
local run = os.getenv("RUN_ID") or tostring(os.time())
local headers = {
  ["Authorization"] = "Bearer " .. token,
  ["Content-Type"] = "application/scim+json",
}

local n = 0
function request()
  n = n + 1
  local name = "wrk-" .. run .. "-" .. tid .. "-" .. n
  local body = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"' .. name ..
    '@example.com","displayName":"' .. name .. '","active":true,"name":{"givenName":"Load","familyName":"' .. name ..
    '"},"emails":[{"value":"' .. name .. '@example.com","type":"work","primary":true}]}'
  return wrk.format("POST", base .. "/Users", headers, body)
end

function response(status, headers, body)
  if status == 201 and body:find('"userName":"wrk-', 1, true) then
    good = good + 1
  else
    bad = bad + 1
  end
end

report("%d users created%.0s, %d wrong")
