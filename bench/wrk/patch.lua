-- PATCH a fresh pending invitation per request: lines "token,invitation_id" from BENCH_FILE, each
-- thread taking every n-th line so that no invitation is answered twice.
local lines, index, step
init = function(args)
  lines = read_lines(os.getenv("BENCH_FILE"))
  step = tonumber(os.getenv("BENCH_THREADS") or "2")
  index = thread_id
end
request = function()
  local line = lines[index]
  index = index + step
  if line == nil then line = lines[1] end
  local token, id = line:match("([^,]+),([^,]+)")
  return wrk.format("PATCH", "/api/v1/invitations/" .. id,
    { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" },
    '{"status": "accepted"}')
end
