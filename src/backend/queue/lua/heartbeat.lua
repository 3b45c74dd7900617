-- An agent's heartbeat for the job it runs.
-- KEYS: job hash, jobs stream, cancel key
-- ARGV: group, agent, entry
-- Returns 1 when the agent should stop: a cancel was asked for, the job already has a final
-- status, or another agent took it over. Otherwise resets the entry's idle time (XCLAIM to
-- itself with JUSTID, which counts no delivery) so nobody reclaims a live job; returns 0.
local status = decode(redis.call('HGET', KEYS[1], 'status'))
if not status or is_final(status.state) or status.agent ~= ARGV[2] then return 1 end
redis.call('XCLAIM', KEYS[2], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return redis.call('EXISTS', KEYS[3])
