import type { Redis } from 'ioredis';
import type { RedisKeys } from '@cronbundle/redis';
import { StaleEpochError } from './coordination.errors';
import type { Fence } from './lease';
import { TOKEN_OF_LUA, runScript } from './redis-script';

const STALE = 'STALE_EPOCH';

/**
 * Prepended to every fenced script. KEYS[1] lease, KEYS[2] epoch counter, ARGV[1] token, ARGV[2]
 * epoch; the caller's own keys and args follow and are handed to its script renumbered from 1.
 * Redis runs a script atomically, so no other leader can slip in between the check and the write.
 */
function fencedSource(script: string): string {
  return `${TOKEN_OF_LUA}
if token_of(redis.call('GET', KEYS[1])) ~= ARGV[1] or redis.call('GET', KEYS[2]) ~= ARGV[2] then
  return redis.error_reply('${STALE} lease or epoch changed')
end
local fenced_keys, fenced_args = {}, {}
for i = 3, #KEYS do fenced_keys[#fenced_keys + 1] = KEYS[i] end
for i = 3, #ARGV do fenced_args[#fenced_args + 1] = ARGV[i] end
local function fenced(KEYS, ARGV)
${script}
end
return fenced(fenced_keys, fenced_args)
`;
}

const SET_LUA = fencedSource(`
if ARGV[2] ~= '' then return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return redis.call('SET', KEYS[1], ARGV[1])
`);
const HSET_LUA = fencedSource(`return redis.call('HSET', KEYS[1], unpack(ARGV))`);
const ZADD_LUA = fencedSource(`return redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])`);

/**
 * Leader-only writes that Redis refuses once the writer's lease is gone or a newer epoch exists
 * (ARCHITECTURE.md §8), so a leader that was paused past its lease cannot overwrite what its
 * successor wrote. Get the fence from `LeaderElector.assertLeader()` just before the write.
 */
export class FencedWriter {
  private readonly fenceKeys: [string, string];
  private readonly sources = new Map<string, string>();

  constructor(
    private readonly redis: Redis,
    keys: RedisKeys,
  ) {
    this.fenceKeys = [keys.leader, keys.leaderEpoch];
  }

  /**
   * Run `script` (Lua seeing its own KEYS/ARGV from 1) only if `fence` is still current; throws
   * StaleEpochError otherwise. Pass constant script texts: each distinct text is cached.
   */
  async evalFenced<T = unknown>(fence: Fence, script: string, keys: string[], args: (string | number)[]): Promise<T> {
    let source = this.sources.get(script);
    if (!source) {
      source = fencedSource(script);
      this.sources.set(script, source);
    }
    return this.run<T>(fence, source, keys, args);
  }

  /** SET key value [PX pxMs], fenced. */
  async setFenced(fence: Fence, key: string, value: string, options: { pxMs?: number } = {}): Promise<void> {
    await this.run(fence, SET_LUA, [key], [value, options.pxMs === undefined ? '' : Math.ceil(options.pxMs)]);
  }

  /** HSET key field value ..., fenced; returns the number of new fields. */
  async hsetFenced(fence: Fence, key: string, fields: Record<string, string | number>): Promise<number> {
    const flat = Object.entries(fields).flatMap(([field, value]) => [field, value]);
    if (flat.length === 0) throw new RangeError('hsetFenced needs at least one field');
    return this.run<number>(fence, HSET_LUA, [key], flat);
  }

  /** ZADD key score member, fenced; returns 1 when the member is new. */
  async zaddFenced(fence: Fence, key: string, score: number, member: string): Promise<number> {
    return this.run<number>(fence, ZADD_LUA, [key], [score, member]);
  }

  private async run<T>(fence: Fence, source: string, keys: string[], args: (string | number)[]): Promise<T> {
    try {
      return await runScript<T>(this.redis, source, [...this.fenceKeys, ...keys], [fence.token, fence.epoch, ...args]);
    } catch (err) {
      if (err instanceof Error && err.message.includes(STALE)) throw new StaleEpochError(fence.epoch);
      throw err;
    }
  }
}
