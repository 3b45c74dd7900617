-- Moves a job's status, atomically with what goes with it. A final status is never
-- replaced, so exactly one final status exists whatever crashes.
-- A final status starts the job's retention: its hash and log expire after it.
-- KEYS: job hash, jobs stream, events, dead, cancel key, log stream, index
-- ARGV: group, events maxlen,
--       guard: 'expect' (the status must still be ARGV[4]) or 'owner' (the status must
--       name ARGV[4] as its agent), ARGV[4],
--       new status JSON, event JSON, jobs-stream entry ('' none), '1' to acknowledge the
--       entry when applied, dead-letter reason ('' none), deliveries, job JSON,
--       retention (ms), job key prefix
-- Returns 1 applied (or applied before: the same call repeated), 0 the status is already
-- final (the entry, if any, is acknowledged), -1 the status changed since it was read,
-- -2 another agent holds the job.
local stored = redis.call('HGET', KEYS[1], 'status')
local entry = ARGV[7]
local ack = entry ~= '' and ARGV[8] == '1'
if stored == ARGV[5] then
  if ack then ack_and_trim(KEYS[2], ARGV[1], entry) end
  return 1
end
local status = decode(stored)
if status and is_final(status.state) then
  if entry ~= '' then ack_and_trim(KEYS[2], ARGV[1], entry) end
  return 0
end
if ARGV[3] == 'expect' and (stored or '') ~= ARGV[4] then return -1 end
if ARGV[3] == 'owner' and (not status or status.agent ~= ARGV[4]) then return -2 end
redis.call('HSET', KEYS[1], 'status', ARGV[5])
if ARGV[9] ~= '' then
  redis.call('XADD', KEYS[4], '*', 'job', ARGV[11], 'reason', ARGV[9], 'deliveries', ARGV[10])
end
if ack then ack_and_trim(KEYS[2], ARGV[1], entry) end
if is_final(decode(ARGV[5]).state) then
  redis.call('DEL', KEYS[5])
  redis.call('PEXPIRE', KEYS[1], ARGV[12])
  redis.call('PEXPIRE', KEYS[6], ARGV[12])
  trim_expired(KEYS[7], KEYS[4], ARGV[13], ARGV[12])
end
add_event(KEYS[3], ARGV[2], ARGV[6])
return 1
