import { Redis, RedisOptions } from 'ioredis';

export interface RedisConnectionSettings {
  url: string;
  /** Connection name shown by CLIENT LIST, e.g. `cronbundle-worker:host:123:bullmq`. */
  name: string;
}

export type RedisRole =
  /** Commands of our own stores: fail fast instead of queueing forever when Redis is down. */
  | 'command'
  /** Connections handed to BullMQ: it requires maxRetriesPerRequest=null and retries itself. */
  | 'bullmq'
  /** Health probes: no offline queue, so a ping fails at once while disconnected. */
  | 'probe';

/**
 * Creates and tracks every Redis connection of a process, so shutdown can close them all.
 * This is the one class through which the apps reach Redis (ARCHITECTURE.md §1).
 */
export class RedisConnections {
  private readonly clients = new Set<Redis>();

  constructor(private readonly settings: RedisConnectionSettings) {}

  create(role: RedisRole, suffix: string = role): Redis {
    const options: RedisOptions = {
      connectionName: `${this.settings.name}:${suffix}`.replace(/[^A-Za-z0-9_.:-]/g, '_'),
      // Reconnect with a capped backoff; a restarted Redis is found again within ~2 s.
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
      lazyConnect: false,
    };
    if (role === 'bullmq') {
      options.maxRetriesPerRequest = null;
    } else if (role === 'probe') {
      options.enableOfflineQueue = false;
      options.maxRetriesPerRequest = 0;
      options.connectTimeout = 2000;
    } else {
      options.maxRetriesPerRequest = 2;
      options.connectTimeout = 5000;
    }
    const client = new Redis(this.settings.url, options);
    // An 'error' listener is required: without one ioredis reports every reconnect attempt as an
    // unhandled error. State is observed through health checks and the logger instead.
    client.on('error', () => undefined);
    this.clients.add(client);
    client.once('end', () => this.clients.delete(client));
    return client;
  }

  /**
   * Close every connection. Called after the app has stopped its work (BullMQ workers closed,
   * requests drained), so nothing is in flight and an immediate disconnect loses nothing.
   */
  async closeAll(): Promise<void> {
    const all = [...this.clients];
    this.clients.clear();
    await Promise.all(
      all.map((client) => {
        if (client.status === 'end') return undefined;
        if (client.status !== 'ready' && client.status !== 'connect') {
          // Reconnecting to an unreachable Redis: disconnect cancels the retry, but ioredis emits no
          // 'end' for it, so waiting would only burn the bound below on every shutdown.
          client.disconnect(false);
          return undefined;
        }
        const ended = new Promise<void>((resolve) => {
          client.once('end', () => resolve());
          setTimeout(resolve, 1000).unref();
        });
        client.disconnect(false);
        return ended;
      }),
    );
  }
}
