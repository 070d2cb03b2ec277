-- wrk script: the seed's POST /api/v1/clipboards (form body, 3 image ids, secret token).
--
-- [BENCH_WRK_RATE=R BENCH_WRK_THREADS=T] wrk -s post_clipboard.lua URL -- TOKEN PREFIX IMAGE_PART [FIXED_ID]
--   TOKEN       the JWT, sent as `Authorization: Token token="<jwt>"` (the seed's form)
--   PREFIX      8 hex digits, different for every run: ids are PREFIX-<thread>-4000-8000-<counter>,
--               so every request creates a new clipboard
--   IMAGE_PART  "&image_ids[]=...&image_ids[]=..." appended to the body
--   FIXED_ID    "-" for unique ids, else this id on every request ("create existing clipboard")
-- BENCH_WRK_RATE: requests per second over all T threads, each thread pacing its share on a fixed
-- schedule; unset or 0 sends as fast as answers come (wrk decides whether to call delay() from
-- the script's top level, so the rate comes from the environment, not from init's arguments).
-- done() prints one line `BENCH_JSON {...}` with counts and latency percentiles (microseconds).

local counter = 0
local threads = {}
local token, prefix, image_part, fixed_id
local rate = tonumber(os.getenv("BENCH_WRK_RATE") or "0") or 0
local nthreads = tonumber(os.getenv("BENCH_WRK_THREADS") or "1") or 1
local interval_ms = rate > 0 and 1000.0 * nthreads / rate or 0
local next_ms = nil
local clock_ms

local ok, ffi = pcall(require, "ffi")
if ok then
  ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clk_id, bench_timespec *tp);
  ]]
  local ts = ffi.new("bench_timespec")
  clock_ms = function()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
  end
end

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_no", #threads)
end

function init(args)
  token, prefix, image_part = args[1], args[2], args[3]
  fixed_id = args[4]
  if fixed_id == "-" or fixed_id == "" then fixed_id = nil end
  wrk.method = "POST"
  wrk.headers["Authorization"] = 'Token token="' .. token .. '"'
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  counter = counter + 1
  local id = fixed_id or string.format("%s-%04x-4000-8000-%012x", prefix, thread_no, counter)
  return wrk.format(nil, nil, nil, "id=" .. id .. image_part)
end

if clock_ms and interval_ms > 0 then
  function delay()
    local now = clock_ms()
    if next_ms == nil then next_ms = now end
    next_ms = next_ms + interval_ms
    local wait = next_ms - now
    if wait < 0 then
      if wait < -1000 then next_ms = now end -- far behind: do not burst to catch up
      return 0
    end
    return math.floor(wait)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors_connect":%d,"errors_read":%d,' ..
    '"errors_write":%d,"errors_status":%d,"errors_timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"p999_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
