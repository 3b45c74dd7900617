-- Records an agent's status; an event only when its state or job changed.
-- KEYS: agent hash, agents set, events
-- ARGV: status JSON, TTL (ms), name, event JSON, events maxlen
-- Returns 1 when an event was added.
local old = decode(redis.call('HGET', KEYS[1], 'status'))
redis.call('HSET', KEYS[1], 'status', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
local new = cjson.decode(ARGV[1])
if old and old.state == new.state and old.job == new.job then return 0 end
add_event(KEYS[3], ARGV[5], ARGV[4])
return 1
