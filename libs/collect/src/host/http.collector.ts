import { defineCollector, type CollectorContext } from '../framework/collector.types';
import { performHttp, type HttpOutcome } from '../framework/http-request';
import { AddressGuard } from '../framework/net-guard';
import type { ClusterCollectorSpec, HostCollectorSpec } from '../spec/collector-schemas';

const MAX_HTTP_BODY = 10 * 1024 * 1024;

async function request(
  ctx: CollectorContext<HostCollectorSpec<'http'> | ClusterCollectorSpec<'http'>>,
): Promise<HttpOutcome> {
  const outcome = await performHttp(ctx.spec, {
    guard: new AddressGuard(ctx.policy.httpAllow),
    signal: ctx.signal,
    defaultTimeoutMs: ctx.limits.timeoutMs,
    maxBodyBytes: Math.min(MAX_HTTP_BODY, ctx.limits.maxOutputBytes),
  });
  // Failures are data (analyzers match `error`), but must not carry resolved secrets.
  if ('error' in outcome) return { error: { message: ctx.scrub(outcome.error.message) } };
  return outcome;
}

export const hostHttpCollector = defineCollector<HostCollectorSpec<'http'>>({
  type: 'http',
  scope: 'host',
  defaultTitle: 'HTTP Request',
  async collect(ctx) {
    await ctx.output.addJson(`host-collectors/http/${ctx.rawSpec.collectorName || 'result'}.json`, await request(ctx));
  },
});

export const clusterHttpCollector = defineCollector<ClusterCollectorSpec<'http'>>({
  type: 'http',
  scope: 'cluster',
  defaultTitle: 'http',
  async collect(ctx) {
    const file = `${ctx.rawSpec.collectorName || 'result'}.json`;
    const name = ctx.rawSpec.name ?? '';
    await ctx.output.addJson(name ? `${name}/${file}` : file, await request(ctx));
  },
});
