-- Asks the agent running a job to stop it.
-- KEYS: job hash, cancel key
-- ARGV: TTL of the cancel key (s)
-- Returns 1 when asked, 0 when the job is not running (any more).
local status = decode(redis.call('HGET', KEYS[1], 'status'))
if not status or status.state ~= 'running' then return 0 end
redis.call('SET', KEYS[2], '1', 'EX', ARGV[1])
return 1
