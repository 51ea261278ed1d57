/**
 * Lua for every execution transition, so a record is never half-written and a check and its write
 * cannot interleave with another worker's. Records are hashes: scalar fields as strings, nested
 * values (`collectors`, `bundle`, ...) as JSON strings Lua never re-encodes (cjson would turn `[]`
 * into `{}`), `stage:<name>` = ms, and `a:<n>` = flat JSON of attempt n.
 */

const TERMINAL = `
local TERMINAL = { succeeded = true, failed = true, cancelled = true, timed_out = true, skipped = true, missed = true }
`;

/**
 * Create a record, or find the slot's existing one. Returns { created 0|1, id, flat HGETALL of that
 * record } so the caller needs no second read. KEYS: exec, jobExecs, slots. ARGV: id, score,
 * slotField|'', execPrefix, field/value pairs...
 */
export const CREATE_LUA = `
if ARGV[3] ~= '' then
  local existing = redis.call('HGET', KEYS[3], ARGV[3])
  if existing then return { 0, existing, redis.call('HGETALL', ARGV[4] .. existing) } end
end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[3], ARGV[3], ARGV[1]) end
return { 1, ARGV[1], redis.call('HGETALL', KEYS[1]) }
`;

/**
 * Begin the next attempt. A record still `running` means the previous attempt's worker died or
 * lost its BullMQ lock (a redelivery): that attempt is closed as failed, never silently reused.
 * With a log entry (JSON; the text \`{attempt}\` in it becomes the new attempt's number), the entry
 * is appended in the same step, so an attempt and its "started" line exist together or not at all.
 * KEYS: exec, logs. ARGV: workerId, nowIso, logEntry|'', logCap.
 * Returns { 'started', attempt, redelivered, cancelRequested, cancelReason, jitterMs } (strings,
 * '' when unset), { 'terminal', status } or { 'missing' }.
 */
export const START_LUA = `${TERMINAL}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return { 'missing' } end
if TERMINAL[status] then return { 'terminal', status } end
local n = tonumber(redis.call('HGET', KEYS[1], 'attempt') or '0')
local redelivered = 0
if status == 'running' and n > 0 then
  redelivered = 1
  local raw = redis.call('HGET', KEYS[1], 'a:' .. n)
  local prev = raw and cjson.decode(raw) or { attempt = n }
  prev.status = 'failed'
  prev.finishedAt = ARGV[2]
  prev.error = 'worker ' .. tostring(prev.workerId or '?') .. ' stopped before finishing (crashed or lost its lock)'
  redis.call('HSET', KEYS[1], 'a:' .. n, cjson.encode(prev))
end
n = n + 1
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(f, 1, 6) == 'stage:' then redis.call('HDEL', KEYS[1], f) end
end
redis.call('HSET', KEYS[1], 'status', 'running', 'attempt', n, 'workerId', ARGV[1], 'startedAt', ARGV[2],
  'finishedAt', '', 'error', '', 'a:' .. n,
  cjson.encode({ attempt = n, workerId = ARGV[1], startedAt = ARGV[2], status = 'running' }))
if ARGV[3] and ARGV[3] ~= '' then
  local entry = ARGV[3]
  local i, j = string.find(entry, '{attempt}', 1, true)
  if i then entry = string.sub(entry, 1, i - 1) .. n .. string.sub(entry, j + 1) end
  redis.call('RPUSH', KEYS[2], entry)
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)
end
local extra = redis.call('HMGET', KEYS[1], 'cancelRequested', 'cancelReason', 'jitterMs')
return { 'started', n, redelivered, extra[1] or '', extra[2] or '', extra[3] or '' }
`;

const FENCE = `
local function current(attempt)
  return redis.call('HGET', KEYS[1], 'status') == 'running' and redis.call('HGET', KEYS[1], 'attempt') == attempt
end
`;

/** Write fields of the running attempt; refused (0) for any other attempt. KEYS: exec. ARGV: attempt, pairs... */
export const UPDATE_LUA = `${FENCE}
if not current(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1
`;

/** Append a log entry, capped to the newest ARGV[3]. KEYS: exec, logs. ARGV: attempt|'', entry, cap. */
export const LOG_LUA = `${FENCE}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] ~= '' and not current(ARGV[1]) then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
return 1
`;

/**
 * Write what a running attempt buffered (log entries, stage timings) in one fenced step; refused
 * (0) for any other attempt. KEYS: exec, logs. ARGV: attempt, logCap, nLogs, entries..., pairs...
 */
export const APPEND_LUA = `${FENCE}
if not current(ARGV[1]) then return 0 end
local n = tonumber(ARGV[3])
if n > 0 then
  redis.call('RPUSH', KEYS[2], unpack(ARGV, 4, 3 + n))
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
end
if #ARGV > 3 + n then redis.call('HSET', KEYS[1], unpack(ARGV, 4 + n)) end
return 1
`;

/**
 * Retention of one job's history: drop finished records older than the cutoff score, then the
 * oldest finished ones beyond maxCount. Queued and running records are never dropped. Deletes at
 * most \`budget\` records; returns how many it deleted. Keys of records are \`<execPrefix><id>\`.
 */
const PRUNE_FN = `
local function prune(execsKey, slotsKey, execPrefix, maxCount, cutoff, budget)
  local deleted = 0
  local function drop(id)
    local k = execPrefix .. id
    local st = redis.call('HGET', k, 'status')
    if st and not TERMINAL[st] then return false end
    local slot = redis.call('HGET', k, 'slot')
    redis.call('DEL', k, k .. ':logs')
    redis.call('ZREM', execsKey, id)
    if slot and slot ~= '' and redis.call('HGET', slotsKey, slot) == id then redis.call('HDEL', slotsKey, slot) end
    deleted = deleted + 1
    return true
  end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', execsKey, '-inf', '(' .. cutoff, 'LIMIT', 0, budget)) do
    drop(id)
  end
  local excess = redis.call('ZCARD', execsKey) - maxCount
  if excess > 0 then
    local ids = redis.call('ZRANGE', execsKey, 0, math.min(excess, budget) + 49)
    for _, id in ipairs(ids) do
      if excess <= 0 or deleted >= budget then break end
      if drop(id) then excess = excess - 1 end
    end
  end
  return deleted
end
`;

/**
 * End an attempt, or a record that never started, in one step: the attempt's outcome, the
 * record's status, the attempt's buffered log entries and fields (stage timings, details), then
 * the job's retention. KEYS: exec, logs. ARGV: 1 attempt ('' = the record must still be queued),
 * 2 newStatus, 3 nowIso, 4 recordFinished ('1' sets finishedAt; '0' for a requeue), 5 errorJson|'',
 * 6 reason, 7 attemptOutcome, 8 logCap, 9 nLogs, 10 retention maxCount|'' (no pruning),
 * 11 retention cutoff score, 12 maxDeletes, 13 execPrefix, 14 jobKeyPrefix (job keys are
 * \`<jobKeyPrefix><jobId>:execs|:slots\`, jobId read from the record), entries (nLogs), pairs...
 * Returns 1, or 0 when refused (stale attempt, or not queued for ARGV[1] = '').
 */
export const FINISH_LUA = `${FENCE}${TERMINAL}${PRUNE_FN}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 0 end
if ARGV[1] == '' then
  if status ~= 'queued' then return 0 end
else
  if not current(ARGV[1]) then return 0 end
  local raw = redis.call('HGET', KEYS[1], 'a:' .. ARGV[1])
  local a = raw and cjson.decode(raw) or { attempt = tonumber(ARGV[1]) }
  a.status = ARGV[7]
  a.finishedAt = ARGV[3]
  if ARGV[5] ~= '' then a.error = cjson.decode(ARGV[5]).message end
  redis.call('HSET', KEYS[1], 'a:' .. ARGV[1], cjson.encode(a))
end
local n = tonumber(ARGV[9])
if n > 0 then
  redis.call('RPUSH', KEYS[2], unpack(ARGV, 15, 14 + n))
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[8]), -1)
end
if #ARGV > 14 + n then redis.call('HSET', KEYS[1], unpack(ARGV, 15 + n)) end
local finished = ''
if ARGV[4] == '1' then finished = ARGV[3] end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'finishedAt', finished, 'error', ARGV[5], 'reason', ARGV[6])
if ARGV[10] ~= '' then
  local jobId = redis.call('HGET', KEYS[1], 'jobId')
  if jobId and jobId ~= '' then
    prune(ARGV[14] .. jobId .. ':execs', ARGV[14] .. jobId .. ':slots', ARGV[13], tonumber(ARGV[10]),
      ARGV[11], tonumber(ARGV[12]))
  end
end
return 1
`;

/**
 * Cancel: a queued record ends at once; a running one is flagged (the worker also gets a pub/sub
 * message on ARGV[3]). KEYS: exec. ARGV: nowIso, reason, channel, executionId.
 */
export const CANCEL_LUA = `${TERMINAL}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'missing' end
if TERMINAL[status] then return 'finished' end
if status == 'queued' then
  redis.call('HSET', KEYS[1], 'status', 'cancelled', 'finishedAt', ARGV[1], 'reason', ARGV[2])
  return 'cancelled'
end
redis.call('HSET', KEYS[1], 'cancelRequested', ARGV[1], 'cancelReason', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 'signalled'
`;

/** Retention of one job's history (PRUNE_FN). KEYS: jobExecs, slots. ARGV: execPrefix, maxCount, cutoffScore, maxDeletes. */
export const PRUNE_LUA = `${TERMINAL}${PRUNE_FN}
return prune(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]))
`;

/**
 * Ask for a re-upload of a finished execution's bundle. KEYS: exec. ARGV: requestJson, nowMs,
 * staleMs (a request still queued after that long, its queue job presumably lost, may be replaced).
 * Returns missing | unfinished | no-bundle | pending | queued.
 */
export const REUPLOAD_REQUEST_LUA = `${TERMINAL}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'missing' end
if not TERMINAL[status] then return 'unfinished' end
local upload = redis.call('HGET', KEYS[1], 'upload')
if not upload or upload == '' then return 'no-bundle' end
local current = redis.call('HGET', KEYS[1], 'reupload')
local since = tonumber(redis.call('HGET', KEYS[1], 'reuploadQueuedAt') or '0')
if current and current ~= '' and cjson.decode(current).status == 'queued'
  and tonumber(ARGV[2]) - since < tonumber(ARGV[3]) then
  return 'pending'
end
redis.call('HSET', KEYS[1], 'reupload', ARGV[1], 'reuploadQueuedAt', ARGV[2])
return 'queued'
`;

/**
 * Record how a re-upload went, if it answers the current request. KEYS: exec. ARGV: requestedAt,
 * resultJson, uploadJson|'' (the bundle's new location). Returns 1, or 0 for a superseded request.
 */
export const REUPLOAD_RESULT_LUA = `
local current = redis.call('HGET', KEYS[1], 'reupload')
if not current or current == '' or cjson.decode(current).requestedAt ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'reupload', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'upload', ARGV[3]) end
return 1
`;

/** Record the jitter delay of a scheduled run, while it is still queued. KEYS: exec. ARGV: ms. */
export const JITTER_LUA = `
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return 0 end
redis.call('HSET', KEYS[1], 'jitterMs', ARGV[1])
return 1
`;
