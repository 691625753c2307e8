-- POST send-invitations with BENCH_CONTACTS emails of existing users to a fresh event per request
-- (lines "token,event_id" from BENCH_FILE, strided per thread).
local lines, index, step, contacts, users
init = function(args)
  lines = read_lines(os.getenv("BENCH_FILE"))
  step = tonumber(os.getenv("BENCH_THREADS") or "2")
  contacts = tonumber(os.getenv("BENCH_CONTACTS"))
  users = tonumber(os.getenv("BENCH_USERS"))
  index = thread_id
end
request = function()
  local line = lines[index]
  index = index + step
  if line == nil then line = lines[1] end
  local token, event = line:match("([^,]+),([^,]+)")
  local start = math.random(200, users - contacts - 1)
  local entries = {}
  for i = 1, contacts do entries[i] = '"user' .. (start + i) .. '@bench.test"' end
  return wrk.format("POST", "/api/v1/" .. event .. "/send-invitations",
    { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" },
    '{"invitations": [' .. table.concat(entries, ",") .. ']}')
end
