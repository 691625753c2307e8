-- Shared by every scenario (run.py prepends it): random bearer tokens and a machine-readable
-- summary line. Environment: BENCH_TOKENS (how many 'bench-token-<n>' exist).
local tokens = tonumber(os.getenv("BENCH_TOKENS") or "100")
math.randomseed(os.time())

function random_token()
  return "bench-token-" .. math.random(1, tokens)
end

function read_lines(path)
  local lines = {}
  for line in io.lines(path) do lines[#lines + 1] = line end
  return lines
end

local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
