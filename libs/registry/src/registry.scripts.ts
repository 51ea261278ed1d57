/**
 * Every registry write is one of these scripts, so a record, the index, the file hash, the revision
 * and the event change together or not at all, and version checks are compare-and-set (two
 * concurrent edits of the same version cannot both win). Records are JSON built in Node and stored
 * verbatim: re-encoding with cjson would turn empty arrays into objects.
 * Scripts reply {status, ...}: 'ok' | 'exists' | 'notfound' | 'file' | 'stale'.
 */

const EVENT = `
local function publish(channel, revKey, kind, id, version)
  local rev = redis.call('INCR', revKey)
  redis.call('PUBLISH', channel, cjson.encode({type = kind, id = id, version = version, revision = rev}))
  return rev
end
`;

/**
 * The dependants index: `<jobPrefix><dep>:dependants` is the set of ids of jobs whose dependsOn
 * contains <dep>. Every script that writes a definition calls reindex with the stored JSON before
 * and after, in the same script, so the index never disagrees with the records. The keys are built
 * here from the job key prefix (same hash slot in cluster mode: the prefix is a hash tag).
 */
const DEPENDANTS = `
local function dependsOnOf(json)
  if not json or json == '' then return {} end
  local rec = cjson.decode(json)
  if type(rec) ~= 'table' or type(rec.dependsOn) ~= 'table' then return {} end
  return rec.dependsOn
end
local function reindex(jobPrefix, id, before, after)
  local now, keep = dependsOnOf(after), {}
  for _, d in ipairs(now) do keep[d] = true end
  for _, d in ipairs(dependsOnOf(before)) do
    if not keep[d] then redis.call('SREM', jobPrefix .. d .. ':dependants', id) end
  end
  for _, d in ipairs(now) do redis.call('SADD', jobPrefix .. d .. ':dependants', id) end
end
`;

/**
 * KEYS job, index, rev, files, indexed · ARGV channel, id, json, source, contentHash, jobPrefix, indexVersion
 * The first job of an empty registry marks the dependants index complete (nothing to rebuild).
 */
export const CREATE = `${EVENT}${DEPENDANTS}
if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists'} end
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[5], ARGV[7]) end
redis.call('SET', KEYS[1], ARGV[3])
reindex(ARGV[6], ARGV[2], nil, ARGV[3])
redis.call('ZADD', KEYS[2], 0, ARGV[2])
if ARGV[4] == 'file' then redis.call('HSET', KEYS[4], ARGV[2], ARGV[5]) end
return {'ok', publish(ARGV[1], KEYS[3], 'created', ARGV[2], 1)}
`;

/**
 * KEYS job, rev · ARGV channel, id, expectedVersion, json, mode, jobPrefix
 * mode 'api' refuses file-managed jobs; 'any' does not (enable/disable).
 */
export const UPDATE = `${EVENT}${DEPENDANTS}
local cur = redis.call('GET', KEYS[1])
if not cur then return {'notfound'} end
local rec = cjson.decode(cur)
if ARGV[5] == 'api' and rec.source == 'file' then return {'file'} end
local expected = tonumber(ARGV[3])
if rec.version ~= expected then return {'stale', rec.version} end
redis.call('SET', KEYS[1], ARGV[4])
reindex(ARGV[6], ARGV[2], cur, ARGV[4])
return {'ok', publish(ARGV[1], KEYS[2], 'updated', ARGV[2], expected + 1)}
`;

/** KEYS job, index, rev, files · ARGV channel, id, mode, expectedVersion ('' = any), jobPrefix */
export const DELETE = `${EVENT}${DEPENDANTS}
local cur = redis.call('GET', KEYS[1])
if not cur then return {'notfound'} end
local rec = cjson.decode(cur)
if ARGV[3] == 'api' and rec.source == 'file' then return {'file'} end
if ARGV[4] ~= '' and rec.version ~= tonumber(ARGV[4]) then return {'stale', rec.version} end
redis.call('DEL', KEYS[1])
reindex(ARGV[5], ARGV[2], cur, nil)
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[4], ARGV[2])
return {'ok', publish(ARGV[1], KEYS[3], 'deleted', ARGV[2], rec.version)}
`;

/**
 * Replace the file-managed set in one step. Checks every precondition first, then writes, so a
 * concurrent API write makes the whole sync retry instead of half-applying it.
 * KEYS index, rev, files, indexed, job1..jobN · ARGV channel, jobPrefix, indexVersion, then per job: op (c|u|d|h: forget the file hash only), id, expectedVersion, json, contentHash
 */
export const SYNC = `${EVENT}${DEPENDANTS}
local n = #KEYS - 4
for i = 1, n do
  local base = 3 + (i - 1) * 5
  local op, expected = ARGV[base + 1], ARGV[base + 3]
  local cur = redis.call('GET', KEYS[4 + i])
  if op == 'c' then
    if cur then return {'stale', ARGV[base + 2]} end
  elseif op ~= 'h' then
    if not cur then return {'stale', ARGV[base + 2]} end
    local rec = cjson.decode(cur)
    if rec.source ~= 'file' or rec.version ~= tonumber(expected) then return {'stale', ARGV[base + 2]} end
  end
end
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[4], ARGV[3]) end
for i = 1, n do
  local base = 3 + (i - 1) * 5
  local op, id, expected, json, hash = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3], ARGV[base + 4], ARGV[base + 5]
  if op == 'c' then
    redis.call('SET', KEYS[4 + i], json)
    reindex(ARGV[2], id, nil, json)
    redis.call('ZADD', KEYS[1], 0, id)
    redis.call('HSET', KEYS[3], id, hash)
    publish(ARGV[1], KEYS[2], 'created', id, 1)
  elseif op == 'u' then
    reindex(ARGV[2], id, redis.call('GET', KEYS[4 + i]), json)
    redis.call('SET', KEYS[4 + i], json)
    redis.call('HSET', KEYS[3], id, hash)
    publish(ARGV[1], KEYS[2], 'updated', id, tonumber(expected) + 1)
  elseif op == 'd' then
    redis.call('HDEL', KEYS[3], id)
    reindex(ARGV[2], id, redis.call('GET', KEYS[4 + i]), nil)
    redis.call('DEL', KEYS[4 + i])
    redis.call('ZREM', KEYS[1], id)
    publish(ARGV[1], KEYS[2], 'deleted', id, tonumber(expected))
  else
    redis.call('HDEL', KEYS[3], id)
  end
end
return {'ok'}
`;

/**
 * Rebuild, step 1: add every listed job to the sets of its dependsOn (read from its stored record
 * now, so a concurrent write is either already reflected or applies its own change after).
 * KEYS index (unused: it routes the script to the registry's node in cluster mode) · ARGV jobPrefix, id1..idN
 */
export const INDEX_DEPENDANTS = `${DEPENDANTS}
for i = 2, #ARGV do
  local json = redis.call('GET', ARGV[1] .. ARGV[i])
  if json then reindex(ARGV[1], ARGV[i], nil, json) end
end
return {'ok'}
`;

/**
 * Rebuild, step 2: drop members of one dependants set whose record is gone or no longer depends
 * on <dep> (entries only a writer older than the index could have left).
 * KEYS set · ARGV jobPrefix, dep
 */
export const PRUNE_DEPENDANTS = `${DEPENDANTS}
local removed = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local found = false
  for _, d in ipairs(dependsOnOf(redis.call('GET', ARGV[1] .. id))) do
    if d == ARGV[2] then found = true end
  end
  if not found then
    redis.call('SREM', KEYS[1], id)
    removed = removed + 1
  end
end
return {'ok', removed}
`;

import { runScript as run } from '@cronbundle/redis';
import type { Redis } from 'ioredis';

export function runScript(redis: Redis, script: string, keys: string[], args: (string | number)[]): Promise<unknown[]> {
  return run<unknown[]>(redis, script, keys, args);
}
