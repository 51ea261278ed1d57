import { once } from 'node:events';
import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import type { Response } from 'express';
import { Metrics } from './metrics';

/** Token of the Redis connection used for readiness probes (offline queue disabled). */
export const REDIS_PROBE = Symbol('REDIS_PROBE');

const PROBE_TIMEOUT_MS = 1000;

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(REDIS_PROBE) private readonly redis: Redis,
  ) {}

  /** Liveness: the process and its event loop answer. Never depends on Redis, so a Redis outage does not get pods killed. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Readiness: Redis answers a PING within a second. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () =>
        this.indicators
          .check('redis')
          .attempt(async () => {
            // Right after boot the probe may still be connecting; wait for that instead of
            // reporting a Redis that is merely not dialled yet as down.
            if (this.redis.status === 'connecting' || this.redis.status === 'connect' || this.redis.status === 'wait') {
              await once(this.redis, 'ready');
            }
            await this.redis.ping();
            return {};
          })
          .withTimeout(PROBE_TIMEOUT_MS),
    ]);
  }
}

@Controller()
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  async scrape(@Res() res: Response): Promise<void> {
    const { contentType, body } = await this.metrics.render();
    res.setHeader('Content-Type', contentType);
    res.send(body);
  }
}
