-- A jobs-stream entry whose job cannot be read: dead-lettered as it is and acknowledged.
-- KEYS: jobs stream, dead
-- ARGV: group, entry, job field as found ('' when missing), reason, deliveries,
--       retention (ms)
-- Returns 1 when buried, 0 when the entry was no longer pending (buried before).
if #redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1) == 0 then return 0 end
redis.call('XADD', KEYS[2], '*', 'job', ARGV[3], 'reason', ARGV[4], 'deliveries', ARGV[5])
trim_dead(KEYS[2], ARGV[6])
ack_and_trim(KEYS[1], ARGV[1], ARGV[2])
return 1
