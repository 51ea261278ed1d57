import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RELEASE_LUA, RENEW_LUA, runScript } from './redis-script';

/** What a holder needs to prove it still holds the lease: its token and the fencing epoch it got. */
export interface Fence {
  token: string;
  epoch: number;
}

export interface LeaseGrant extends Fence {
  /** Redis server time (epoch ms) when the lease was acquired. */
  since: number;
}

export interface LeaseHolder {
  owner: string;
  epoch: number;
  /** Redis server time (epoch ms) when the holder acquired the lease. */
  since: number;
  /** Remaining time to live (PTTL) when read. */
  ttlMs: number;
}

/** The lease was held by someone else; `heldForMs` is its remaining TTL (null if it has none). */
export interface LeaseBusy {
  heldForMs: number | null;
}

/**
 * Acquire only when free; each acquisition takes the next fencing epoch. The value is JSON so a
 * status view can show who holds it since when; TIME is Redis's clock, the same for every reader.
 * When held, returns its PTTL, so a contender can try again right when it expires.
 * KEYS: lease, epoch counter; ARGV: token, owner, ttlMs.
 */
const ACQUIRE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('PTTL', KEYS[1]) end
local epoch = redis.call('INCR', KEYS[2])
local t = redis.call('TIME')
local since = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], cjson.encode({ token = ARGV[1], owner = ARGV[2], epoch = epoch, since = since }), 'PX', ARGV[3])
return { epoch, since }
`;

/** KEYS: lease; returns { value, pttl } or false. */
const READ_LUA = `
local v = redis.call('GET', KEYS[1])
if not v then return false end
return { v, redis.call('PTTL', KEYS[1]) }
`;

/** Random owner token that names the owner, for debugging (`MONITOR`, `GET`). */
export function ownerToken(ownerId: string): string {
  return `${ownerId}/${randomBytes(12).toString('hex')}`;
}

/**
 * A time-limited exclusive lease on one key with fencing epochs (ARCHITECTURE.md §8):
 * acquire is SET-if-absent with PX plus INCR of the epoch key, atomically in one script; renew and
 * release are compare-and-set on the owner token, so an instance can never extend or delete a
 * lease that expired and was taken by someone else.
 */
export class Lease {
  constructor(
    private readonly redis: Redis,
    readonly key: string,
    readonly epochKey: string,
    /** Channel on which a release is announced (followers wake up at once); none when omitted. */
    readonly releasedChannel?: string,
  ) {}

  async acquire(ownerId: string, ttlMs: number): Promise<LeaseGrant | null> {
    const result = await this.tryAcquire(ownerId, ttlMs);
    return 'token' in result ? result : null;
  }

  /** Like `acquire`, but when the lease is held says for how much longer. */
  async tryAcquire(ownerId: string, ttlMs: number): Promise<LeaseGrant | LeaseBusy> {
    const token = ownerToken(ownerId);
    const reply = await runScript<[number, number] | number>(
      this.redis,
      ACQUIRE_LUA,
      [this.key, this.epochKey],
      [token, ownerId, Math.ceil(ttlMs)],
    );
    if (!Array.isArray(reply)) return { heldForMs: reply >= 0 ? reply : null };
    return { token, epoch: Number(reply[0]), since: Number(reply[1]) };
  }

  /** Extend to `ttlMs` from now; false when the lease is no longer ours (expired or taken). */
  async renew(token: string, ttlMs: number): Promise<boolean> {
    return (await runScript<number>(this.redis, RENEW_LUA, [this.key], [token, Math.ceil(ttlMs)])) === 1;
  }

  /** Delete only if still ours, and announce it; false when it was not ours any more. */
  async release(token: string, message = ''): Promise<boolean> {
    const released = await runScript<number>(
      this.redis,
      RELEASE_LUA,
      [this.key],
      [token, this.releasedChannel ?? '', message],
    );
    return released === 1;
  }

  /** Remaining TTL in ms, or null when nobody holds the lease. */
  async pttl(): Promise<number | null> {
    const ttl = await this.redis.pttl(this.key);
    return ttl >= 0 ? ttl : null;
  }

  /** Who holds the lease now (for status views), or null. */
  async holder(): Promise<LeaseHolder | null> {
    const reply = await runScript<[string, number] | null>(this.redis, READ_LUA, [this.key], []);
    if (!reply) return null;
    const [raw, ttl] = reply;
    try {
      const value = JSON.parse(raw) as { owner?: unknown; epoch?: unknown; since?: unknown };
      return { owner: String(value.owner), epoch: Number(value.epoch), since: Number(value.since), ttlMs: Number(ttl) };
    } catch {
      return null;
    }
  }
}
