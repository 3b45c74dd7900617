-- Queues a job: its hash, the index, the jobs stream and the event, all or nothing. A push
-- also names its delivery key and its push key: a delivery or a push seen before queues
-- nothing, and the answer names the job it queued.
-- KEYS: job hash, index, jobs stream, events, dead [, delivery key, push key]
-- ARGV: job id, job JSON, status JSON, created at (ms), event JSON, events maxlen,
--       retention (ms), job key prefix, delivery key TTL (s), push key TTL (s, 0: none)
-- Returns {1, id} queued; {0, id} the job id exists; {2, job} the delivery was seen, as
-- job; {3, job} the same push was queued as job within the window.
local delivery, push = KEYS[6], KEYS[7]
if delivery then
  local seen = redis.call('GET', delivery)
  -- The same call repeated after a dropped connection finds its own job id there.
  if seen == ARGV[1] then return {1, seen} end
  if seen then return {2, seen} end
  local queued = tonumber(ARGV[10]) > 0 and redis.call('GET', push)
  if queued then
    redis.call('SET', delivery, queued, 'EX', ARGV[9])
    return {3, queued}
  end
end
if redis.call('EXISTS', KEYS[1]) == 1 then return {0, ARGV[1]} end
if delivery then
  redis.call('SET', delivery, ARGV[1], 'EX', ARGV[9])
  if tonumber(ARGV[10]) > 0 then redis.call('SET', push, ARGV[1], 'EX', ARGV[10]) end
end
redis.call('HSET', KEYS[1], 'job', ARGV[2], 'status', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('XADD', KEYS[3], '*', 'job', ARGV[2])
add_event(KEYS[4], ARGV[6], ARGV[5])
trim_expired(KEYS[2], KEYS[5], ARGV[8], ARGV[7])
return {1, ARGV[1]}
