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

/** KEYS job, index, rev, files · ARGV channel, id, json, source, contentHash */
export const CREATE = `${EVENT}
if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists'} end
redis.call('SET', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], 0, ARGV[2])
if ARGV[4] == 'file' then redis.call('HSET', KEYS[4], ARGV[2], ARGV[5]) end
return {'ok', publish(ARGV[1], KEYS[3], 'created', ARGV[2], 1)}
`;

/**
 * KEYS job, rev · ARGV channel, id, expectedVersion, json, mode
 * mode 'api' refuses file-managed jobs; 'any' does not (enable/disable).
 */
export const UPDATE = `${EVENT}
local cur = redis.call('GET', KEYS[1])
if not cur then return {'notfound'} end
local rec = cjson.decode(cur)
if ARGV[5] == 'api' and rec.source == 'file' then return {'file'} end
local expected = tonumber(ARGV[3])
if rec.version ~= expected then return {'stale', rec.version} end
redis.call('SET', KEYS[1], ARGV[4])
return {'ok', publish(ARGV[1], KEYS[2], 'updated', ARGV[2], expected + 1)}
`;

/** KEYS job, index, rev, files · ARGV channel, id, mode, expectedVersion ('' = any) */
export const DELETE = `${EVENT}
local cur = redis.call('GET', KEYS[1])
if not cur then return {'notfound'} end
local rec = cjson.decode(cur)
if ARGV[3] == 'api' and rec.source == 'file' then return {'file'} end
if ARGV[4] ~= '' and rec.version ~= tonumber(ARGV[4]) then return {'stale', rec.version} end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[4], ARGV[2])
return {'ok', publish(ARGV[1], KEYS[3], 'deleted', ARGV[2], rec.version)}
`;

/**
 * Replace the file-managed set in one step. Checks every precondition first, then writes, so a
 * concurrent API write makes the whole sync retry instead of half-applying it.
 * KEYS index, rev, files, job1..jobN · ARGV channel, then per job: op (c|u|d|h: forget the file hash only), id, expectedVersion, json, contentHash
 */
export const SYNC = `${EVENT}
local n = #KEYS - 3
for i = 1, n do
  local base = 1 + (i - 1) * 5
  local op, expected = ARGV[base + 1], ARGV[base + 3]
  local cur = redis.call('GET', KEYS[3 + i])
  if op == 'c' then
    if cur then return {'stale', ARGV[base + 2]} end
  elseif op ~= 'h' then
    if not cur then return {'stale', ARGV[base + 2]} end
    local rec = cjson.decode(cur)
    if rec.source ~= 'file' or rec.version ~= tonumber(expected) then return {'stale', ARGV[base + 2]} end
  end
end
for i = 1, n do
  local base = 1 + (i - 1) * 5
  local op, id, expected, json, hash = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3], ARGV[base + 4], ARGV[base + 5]
  if op == 'c' then
    redis.call('SET', KEYS[3 + i], json)
    redis.call('ZADD', KEYS[1], 0, id)
    redis.call('HSET', KEYS[3], id, hash)
    publish(ARGV[1], KEYS[2], 'created', id, 1)
  elseif op == 'u' then
    redis.call('SET', KEYS[3 + i], json)
    redis.call('HSET', KEYS[3], id, hash)
    publish(ARGV[1], KEYS[2], 'updated', id, tonumber(expected) + 1)
  elseif op == 'd' then
    redis.call('HDEL', KEYS[3], id)
    redis.call('DEL', KEYS[3 + i])
    redis.call('ZREM', KEYS[1], id)
    publish(ARGV[1], KEYS[2], 'deleted', id, tonumber(expected))
  else
    redis.call('HDEL', KEYS[3], id)
  end
end
return {'ok'}
`;

import { runScript as run } from '@cronbundle/redis';
import type { Redis } from 'ioredis';

export function runScript(redis: Redis, script: string, keys: string[], args: (string | number)[]): Promise<unknown[]> {
  return run<unknown[]>(redis, script, keys, args);
}
