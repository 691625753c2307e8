-- GET a list with a random sample user's token. BENCH_PATH: the path and query.
local path = os.getenv("BENCH_PATH")
request = function()
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. random_token() })
end
