-- wrk script: POST /Users of Okta-shaped users (scimload's body), each with
-- a userName of its own (RUN_ID, the thread, a counter). Every answer must
-- be 201 and carry a userName.
local token = assert(os.getenv("BENCH_SCIM_TOKEN"), "BENCH_SCIM_TOKEN is not set")
local base = assert(os.getenv("BASE_PATH"), "BASE_PATH is not set") -- /scim/v2/<tenant>
local run = os.getenv("RUN_ID") or tostring(os.time())
local headers = {
  ["Authorization"] = "Bearer " .. token,
  ["Content-Type"] = "application/scim+json",
}

local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local n = 0
good, bad = 0, 0
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

function done(summary, latency, requests)
  local g, b = 0, 0
  for _, t in ipairs(threads) do
    g, b = g + t:get("good"), b + t:get("bad")
  end
  io.write(string.format("checked: %d users created, %d wrong answers\n", g, b))
end
