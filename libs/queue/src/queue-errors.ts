import { getQueueToken } from '@nestjs/bullmq';
import { Inject, Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Queue } from 'bullmq';
import { LOGGER } from '@cronbundle/observability';
import type { Logger } from '@cronbundle/observability';
import { ALL_QUEUES } from './queue-names';

/**
 * A producer Queue without an 'error' listener makes BullMQ print every failed reconnect to stderr
 * (console.error, outside the JSON log) while Redis is down. Listen, and log each distinct message
 * at warn at most once a minute; Redis reachability itself is reported by /health/ready.
 */
@Injectable()
export class QueueErrorListener implements OnModuleInit {
  /** Last time each message was logged: at most one line a minute per message. */
  private readonly lastLogged = new Map<string, number>();

  constructor(
    private readonly moduleRef: ModuleRef,
    @Optional() @Inject(LOGGER) private readonly logger?: Logger,
  ) {}

  onModuleInit(): void {
    for (const name of ALL_QUEUES) {
      const queue = this.moduleRef.get<Queue>(getQueueToken(name), { strict: false });
      queue.on('error', (err: Error) => {
        const now = Date.now();
        if (now - (this.lastLogged.get(err.message) ?? -Infinity) < 60_000) return;
        this.lastLogged.set(err.message, now);
        this.logger?.warn({ queue: name, err: err.message }, 'queue connection error');
      });
    }
  }
}
