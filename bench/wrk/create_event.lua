-- POST an event (a write transaction) with a random sample user's token.
request = function()
  return wrk.format("POST", "/api/v1/events",
    { ["Authorization"] = "Bearer " .. random_token(), ["Content-Type"] = "application/json" },
    '{"title": "Load test"}')
end
