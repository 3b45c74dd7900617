-- The statuses of live agents; names whose hash expired leave the set.
-- KEYS: agents set
-- ARGV: agent key prefix (the agent hash key without the name)
local live = {}
for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local status = redis.call('HGET', ARGV[1] .. name, 'status')
  if status then
    table.insert(live, status)
  else
    redis.call('SREM', KEYS[1], name)
  end
end
return live
