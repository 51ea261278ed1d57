import { Controller, Get, Inject } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { LeaderElector } from '@cronbundle/coordination';
import { RunSchedulers } from '@cronbundle/queue';
import { REDIS, RedisKeys } from '@cronbundle/redis';
import { RequireRole } from '../auth/auth.guard';
import { ApiContract } from '../openapi/contract';

/** A process is listed as stale (not removed) when it has not beaten for this long. */
const STALE_AFTER_MS = 15_000;

const memberSchema = z.object({
  id: z.string(),
  lastSeen: z.string(),
  stale: z.boolean(),
  startedAt: z.string().optional(),
  leader: z.boolean().optional(),
  concurrency: z.number().optional(),
  active: z.number().optional(),
});

export const clusterSchema = z.object({
  leader: z.object({ id: z.string(), epoch: z.number(), since: z.string(), ttlMs: z.number() }).nullable(),
  schedulers: z.array(memberSchema),
  workers: z.array(memberSchema),
  queues: z.object({ runs: z.record(z.string(), z.number()) }),
});

type Member = z.infer<typeof memberSchema>;

@Controller('cluster')
export class ClusterController {
  constructor(
    private readonly elector: LeaderElector,
    private readonly runs: RunSchedulers,
    private readonly keys: RedisKeys,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  @Get()
  @RequireRole('viewer')
  @ApiContract({
    summary: 'Leader, schedulers, workers (with last heartbeat) and queue counts',
    responses: { 200: { description: 'the cluster as Redis sees it', schema: clusterSchema } },
  })
  async status(): Promise<z.infer<typeof clusterSchema>> {
    const [leader, beats, runs] = await Promise.all([
      this.elector.currentLeader(),
      this.redis.hgetall(this.keys.workers),
      this.runs.counts(),
    ]);
    const now = Date.now();
    const schedulers: Member[] = [];
    const workers: Member[] = [];
    for (const [id, raw] of Object.entries(beats)) {
      let beat: Record<string, unknown>;
      try {
        beat = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        continue;
      }
      const lastSeen = String(beat.lastSeen ?? '');
      const member: Member = {
        id,
        lastSeen,
        stale: !(now - Date.parse(lastSeen) < STALE_AFTER_MS),
        ...(typeof beat.startedAt === 'string' ? { startedAt: beat.startedAt } : {}),
        // The lease says who leads; a heartbeat's own claim outlives a killed leader by up to STALE_AFTER_MS.
        ...(beat.role === 'scheduler' ? { leader: leader !== null && leader.id === id } : {}),
        ...(typeof beat.concurrency === 'number' ? { concurrency: beat.concurrency } : {}),
        ...(typeof beat.active === 'number' ? { active: beat.active } : {}),
      };
      (beat.role === 'scheduler' ? schedulers : workers).push(member);
    }
    const byId = (a: Member, b: Member) => a.id.localeCompare(b.id);
    return {
      leader: leader ? { id: leader.id, epoch: leader.epoch, since: leader.since, ttlMs: leader.ttlMs } : null,
      schedulers: schedulers.sort(byId),
      workers: workers.sort(byId),
      queues: { runs },
    };
  }
}
