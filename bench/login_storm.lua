-- wrk script for bench/run.sh's sign-in storm: every request is
--   POST <url> {"email": $BENCH_EMAIL, "password": $BENCH_PASSWORD}
-- and responses are counted by status (200, 503, anything else by code).
-- done() prints one line for run.sh:
--   STORM <ok> <busy> <other> <seconds> <p50 ms> <p99 ms> <other-statuses e.g. 429x3,500x1 or ->
local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":' .. json_string(os.getenv("BENCH_EMAIL") or "") ..
           ',"password":' .. json_string(os.getenv("BENCH_PASSWORD") or "") .. '}'

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok, busy, other, others = 0, 0, 0, {}
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  elseif status == 503 then
    busy = busy + 1
  else
    other = other + 1
    others[status] = (others[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local a, b, c, by = 0, 0, 0, {}
  for _, t in ipairs(threads) do
    a = a + t:get("ok")
    b = b + t:get("busy")
    c = c + t:get("other")
    for status, n in pairs(t:get("others")) do
      by[status] = (by[status] or 0) + n
    end
  end
  local list = {}
  for status, n in pairs(by) do
    table.insert(list, string.format("%dx%d", status, n))
  end
  table.sort(list)
  io.write(string.format("STORM %d %d %d %.3f %.1f %.1f %s\n", a, b, c,
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    #list > 0 and table.concat(list, ",") or "-"))
end
