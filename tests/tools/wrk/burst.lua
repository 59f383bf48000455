-- A bounded burst for wrk, sent the way Railway's edge forwards requests to a service.
--
--   wrk -t THREADS -c CONNECTIONS -d MAX_SECONDS -s burst.lua http://127.0.0.1:PORT \
--       -- SHARE HOST DONE_FILE PATH [PATH ...]
--
-- Each thread sends its requests round-robin over the PATHs with Host = HOST and the edge's
-- forwarding headers, counts answers outside 2xx, and stops after SHARE answers, writing a line
-- to DONE_FILE (wrk itself only stops at the end of its duration: the caller interrupts it once
-- every thread has written its line). done() prints one "BURST {json}" line with the totals.

local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  share = tonumber(args[1])
  done_file = args[3]
  local headers = {
    ["Host"] = args[2],
    ["X-Forwarded-Proto"] = "https",
    ["X-Forwarded-For"] = "203.0.113.10",
    ["X-Real-IP"] = "203.0.113.10",
    ["Accept-Encoding"] = "br, gzip",
    ["User-Agent"] = "railway-emulator-burst",
  }
  prepared = {}
  for i = 4, #args do
    prepared[#prepared + 1] = wrk.format("GET", args[i], headers)
  end
  sent = 0
  answered = 0
  non2xx = 0
end

function request()
  sent = sent + 1
  return prepared[(sent - 1) % #prepared + 1]
end

function response(status, headers, body)
  answered = answered + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
  if answered == share then
    local out = io.open(done_file, "a")
    out:write(id, "\n")
    out:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local counted, failed = 0, 0
  for _, thread in ipairs(threads) do
    counted = counted + (thread:get("answered") or 0)
    failed = failed + (thread:get("non2xx") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BURST {"requests": %d, "answered": %d, "non2xx": %d, "duration_us": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "status_errors": %d, ' ..
    '"timeouts": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, counted, failed, summary.duration,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
