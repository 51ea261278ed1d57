import { createConnection, createServer, isIP, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { defineCollector } from '../framework/collector.types';
import { parseGoDuration } from '../spec/duration';
import type { HostCollectorSpec } from '../spec/collector-schemas';

export type NetworkStatus =
  'connected' | 'connection-refused' | 'connection-timeout' | 'address-in-use' | 'error' | 'invalid-address';
export interface NetworkStatusResult {
  status: NetworkStatus;
  message: string;
}

/** Dial once; map the outcome to troubleshoot's status words. */
export function dial(host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<NetworkStatusResult> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (result: NetworkStatusResult) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => done({ status: 'connection-timeout', message: `no connection to ${host}:${port} within ${timeoutMs} ms` }),
      timeoutMs,
    );
    const onAbort = () => done({ status: 'error', message: 'aborted' });
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => done({ status: 'connected', message: '' }));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') done({ status: 'connection-refused', message: '' });
      else if (err.code === 'ETIMEDOUT') done({ status: 'connection-timeout', message: err.message });
      else done({ status: 'error', message: err.message });
    });
  });
}

/** `host:port` (IPv6 in brackets), or undefined when it is not one. */
export function splitHostPort(address: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address.trim());
  if (!m) return undefined;
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  if (m[1] !== undefined && isIP(host) !== 6) return undefined;
  if (!isIP(host) && !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(host)) return undefined;
  return { host, port };
}

export const tcpConnectCollector = defineCollector<HostCollectorSpec<'tcpConnect'>>({
  type: 'tcpConnect',
  scope: 'host',
  defaultTitle: 'TCP Connection Attempt',
  async collect(ctx) {
    const path = `host-collectors/connect/${ctx.rawSpec.collectorName || 'connect'}.json`;
    const target = splitHostPort(ctx.spec.address);
    if (!target) {
      await ctx.output.addJson(path, {
        status: 'invalid-address',
        message: ctx.scrub(`invalid address: ${ctx.spec.address}`),
      });
      return;
    }
    const timeout = ctx.spec.timeout ? parseGoDuration(ctx.spec.timeout)! : 10_000;
    const result = await dial(target.host, target.port, Math.min(timeout, ctx.limits.timeoutMs), ctx.signal);
    await ctx.output.addJson(path, { ...result, message: ctx.scrub(result.message) });
  },
});

/**
 * troubleshoot listens on the port and dials it: `address-in-use` when something already holds
 * it, `connected` when our own listener is reachable, refused/timeout when a firewall is in the way.
 */
export const tcpPortStatusCollector = defineCollector<HostCollectorSpec<'tcpPortStatus'>>({
  type: 'tcpPortStatus',
  scope: 'host',
  defaultTitle: 'TCP Port Status',
  async collect(ctx) {
    const path = `host-collectors/tcpPortStatus/${ctx.rawSpec.collectorName || 'tcpPortStatus'}.json`;
    let listenHost = '0.0.0.0';
    let dialHost = firstIPv4() ?? '127.0.0.1';
    if (ctx.spec.interface) {
      const address = networkInterfaces()[ctx.spec.interface]?.find((a) => a.family === 'IPv4')?.address;
      if (!address) {
        await ctx.output.addJson(path, {
          status: 'error',
          message: `interface ${ctx.spec.interface} has no IPv4 address`,
        });
        return;
      }
      listenHost = dialHost = address;
    }
    const server = createServer((socket) => socket.destroy());
    const listened = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      server.once('error', resolve);
      server.listen({ port: ctx.spec.port, host: listenHost, exclusive: true }, () => resolve(undefined));
    });
    if (listened) {
      const result =
        listened.code === 'EADDRINUSE'
          ? { status: 'address-in-use', message: '' }
          : { status: 'error', message: `failed to create listener: ${listened.message}` };
      await ctx.output.addJson(path, result);
      return;
    }
    try {
      const result = await dial(dialHost, ctx.spec.port, Math.min(10_000, ctx.limits.timeoutMs), ctx.signal);
      await ctx.output.addJson(path, result);
    } finally {
      await close(server);
    }
  },
});

function firstIPv4(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    const a = (addresses ?? []).find((x) => x.family === 'IPv4' && !x.internal);
    if (a) return a.address;
  }
  return undefined;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
