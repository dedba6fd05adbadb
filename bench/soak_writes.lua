-- wrk script for bench/soak.sh's writers: every request is
--   POST <url> {"name": "soak <thread> <n>", "description": "..."}
-- with the Bearer token in $SOAK_TOKEN. Responses are counted by status;
-- done() prints one line for soak.sh:
--   WRITES <created> <other> <other-statuses e.g. 500x3 or ->
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("SOAK_TOKEN") or "")

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  created, other, others, n = 0, 0, {}, 0
end

function request()
  n = n + 1
  local body = string.format('{"name":"soak %d %d","description":"written by bench/soak.sh"}', id, n)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  else
    other = other + 1
    others[status] = (others[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local c, o, list = 0, 0, {}
  local merged = {}
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    o = o + t:get("other")
    for status, count in pairs(t:get("others")) do
      merged[status] = (merged[status] or 0) + count
    end
  end
  for status, count in pairs(merged) do
    table.insert(list, status .. "x" .. count)
  end
  io.write(string.format("WRITES %d %d %s\n", c, o, #list > 0 and table.concat(list, ",") or "-"))
end
