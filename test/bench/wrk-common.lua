-- Shared by the wrk-*.lua scripts (loaded with dofile): the bearer token,
-- a thread number for every thread (tid, from 1), and the tally of checked
-- answers: each script's response() counts good, bad and, where it tells
-- answers apart, bodies; done() prints them summed over the threads as
-- "checked: …", which wrk.sh looks for.
token = assert(os.getenv("BENCH_SCIM_TOKEN"), "BENCH_SCIM_TOKEN is not set")

local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

good, bad, bodies = 0, 0, 0

-- summary is a format with three %d: good, bodies, bad.
function report(summary)
  function done()
    local g, b, m = 0, 0, 0
    for _, t in ipairs(threads) do
      g, b, m = g + t:get("good"), b + t:get("bad"), m + t:get("bodies")
    end
    io.write("checked: " .. string.format(summary, g, m, b) .. "\n")
  end
end
