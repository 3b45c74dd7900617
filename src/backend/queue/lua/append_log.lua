-- Appends a batch of log lines, keeping the first ARGV[1]: the one after them is the
-- marker ARGV[3], and later ones are dropped. The log expires a retention after its last
-- line (and again after the job's final status).
-- KEYS: log stream
-- ARGV: lines kept, retention (ms), marker line, then step, stream, line for each line
local kept = tonumber(ARGV[1])
local length = redis.call('XLEN', KEYS[1])
for i = 4, #ARGV, 3 do
  if length < kept then
    redis.call('XADD', KEYS[1], '*', 'step', ARGV[i], 'stream', ARGV[i + 1], 'line', ARGV[i + 2])
  elseif length == kept then
    redis.call('XADD', KEYS[1], '*', 'step', ARGV[i], 'stream', 'system', 'line', ARGV[3])
  else
    break
  end
  length = length + 1
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return length
