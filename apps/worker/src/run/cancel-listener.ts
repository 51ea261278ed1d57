import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisConnections, RedisKeys } from '@cronbundle/redis';

/**
 * Receives cancel requests (`P:exec:cancel`, published by ExecutionStore.requestCancel) and calls
 * the handler of the execution if this worker is running it. Other workers ignore the message.
 * Stays subscribed through the shutdown grace period; RedisModule closes the connection last.
 */
@Injectable()
export class CancelListener implements OnApplicationBootstrap {
  private readonly handlers = new Map<string, () => void>();
  private subscriber?: Redis;

  constructor(
    private readonly connections: RedisConnections,
    private readonly keys: RedisKeys,
  ) {}

  onApplicationBootstrap(): void {
    // A 'bullmq' role connection retries forever, so the subscription completes once Redis is
    // reachable instead of failing the boot; ioredis re-subscribes after every reconnect.
    this.subscriber = this.connections.create('bullmq', 'cancel-sub');
    this.subscriber.on('message', (_channel: string, executionId: string) => this.handlers.get(executionId)?.());
    void this.subscriber.subscribe(this.keys.execCancel).catch(() => undefined);
  }

  /** Call `onCancel` when a cancel for `executionId` arrives; returns the unregister function. */
  register(executionId: string, onCancel: () => void): () => void {
    this.handlers.set(executionId, onCancel);
    return () => {
      if (this.handlers.get(executionId) === onCancel) this.handlers.delete(executionId);
    };
  }
}
