-- Queues a job: its hash, the index, the jobs stream and the event, all or nothing.
-- KEYS: job hash, index, jobs stream, events [, delivery key]
-- ARGV: job id, job JSON, status JSON, created at (ms), event JSON, events maxlen,
--       delivery key TTL (s)
-- Returns 1 when queued; 0 when the delivery or the job id was seen before.
if KEYS[5] and not redis.call('SET', KEYS[5], ARGV[1], 'NX', 'EX', ARGV[7]) then
  -- The same call repeated after a dropped connection finds its own job id there.
  if redis.call('GET', KEYS[5]) == ARGV[1] then return 1 end
  return 0
end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'job', ARGV[2], 'status', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('XADD', KEYS[3], '*', 'job', ARGV[2])
add_event(KEYS[4], ARGV[6], ARGV[5])
return 1
