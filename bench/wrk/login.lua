-- POST login as a random user; BENCH_DELAY_MS > 0 paces each connection (e.g. 10 logins/s).
local users = tonumber(os.getenv("BENCH_USERS"))
local pace = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
request = function()
  local body = '{"login": "user' .. math.random(1, users) .. '@bench.test", "password": "bench password"}'
  return wrk.format("POST", "/api/v1/login", { ["Content-Type"] = "application/json" }, body)
end
if pace > 0 then
  delay = function() return pace end
end
