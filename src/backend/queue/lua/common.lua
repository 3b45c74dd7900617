-- Prepended to every queue script (scripts.rs): helpers shared by them.

-- A final state is written once and never changes (contract.rs, JobState::is_final).
local function is_final(state)
  return state ~= 'queued' and state ~= 'running'
end

-- A JSON value (a status) decoded, or nil when there is none.
local function decode(status)
  if not status then return nil end
  return cjson.decode(status)
end

local function add_event(events, maxlen, event)
  redis.call('XADD', events, 'MAXLEN', '~', maxlen, '*', 'event', event)
end

-- Acknowledges a jobs-stream entry, then trims the stream's head up to the oldest entry
-- still needed: the oldest pending one, else the first not yet delivered. Trimming instead
-- of XDEL leaves no tombstones: a deleted entry newer than a still-pending one makes
-- XINFO GROUPS report the lag as nil, and KEDA would see no waiting jobs.
local function ack_and_trim(stream, group, entry)
  redis.call('XACK', stream, group, entry)
  local pending = redis.call('XPENDING', stream, group)
  if pending[1] > 0 then
    redis.call('XTRIM', stream, 'MINID', pending[2])
    return
  end
  local last = '0-0'
  for _, info in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
    local fields = {}
    for i = 1, #info, 2 do fields[info[i]] = info[i + 1] end
    if fields['name'] == group then last = fields['last-delivered-id'] end
  end
  local waiting = redis.call('XRANGE', stream, '(' .. last, '+', 'COUNT', 1)
  if #waiting > 0 then
    redis.call('XTRIM', stream, 'MINID', waiting[1][1])
  else
    redis.call('XTRIM', stream, 'MAXLEN', 0)
  end
end

-- Redis' clock in milliseconds, as an integer string for commands.
local function now_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

-- Drops dead letters older than the retention: stream ids are their times in ms.
local function trim_dead(dead, retention_ms)
  local oldest = now_ms() - tonumber(retention_ms)
  if oldest > 0 then redis.call('XTRIM', dead, 'MINID', string.format('%d', oldest)) end
end

-- Index entries created before the retention began whose job hash has expired, looked at
-- this many at a time: every enqueue and every final status removes up to that many.
local INDEX_TRIM_BATCH = 100

-- Forgets what the retention let expire: dead letters, and the index entries of expired
-- jobs (job hashes expire on their own, a retention after their final status).
local function trim_expired(index, dead, job_prefix, retention_ms)
  trim_dead(dead, retention_ms)
  local before = now_ms() - tonumber(retention_ms)
  if before <= 0 then return end
  local ids = redis.call('ZRANGEBYSCORE', index, '-inf', string.format('%d', before),
    'LIMIT', 0, INDEX_TRIM_BATCH)
  for _, id in ipairs(ids) do
    if redis.call('EXISTS', job_prefix .. id) == 0 then redis.call('ZREM', index, id) end
  end
end
