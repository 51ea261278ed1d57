import { posix } from 'node:path';
import { PassThrough } from 'node:stream';
import { defineCollector, type CollectorContext } from '../framework/collector.types';
import { parseGoDuration } from '../spec/duration';
import type { KubeClient, KubeObject, LogOptions } from './kube-client';
import { errorText, kubeClientFor } from './kube-context';
import type { LogsSpec } from './kubernetes-schemas';

/** troubleshoot's defaults (pkg/collect/logs.go setLogLimits). */
export const DEFAULT_MAX_LINES = 10_000;
export const DEFAULT_MAX_BYTES = 5_000_000;

/**
 * Pod logs in troubleshoot's layout: the file at `cluster-resources/pods/logs/<ns>/<pod>/<container>.log`
 * (and `-previous.log` when the container restarted), a relative symlink `<name>/<pod>/<container>.log`
 * to it, per-container failures in `<name>/<pod>/<container>-errors.json`. Logs stream from the API
 * server into the bundle; nothing holds a whole log in memory.
 */
export const logsCollector = defineCollector<LogsSpec>({
  type: 'logs',
  scope: 'cluster',
  defaultTitle: 'logs',
  async collect(ctx) {
    const client = await kubeClientFor(ctx);
    const spec = ctx.spec;
    const folder = trimSlashes(spec.name || '');
    const errorsFile = spec.name
      ? `${folder}/errors.json`
      : spec.collectorName
        ? `${spec.collectorName}/errors.json`
        : 'errors.json';

    let pods: KubeObject[];
    try {
      pods = (await client.listPods(spec.namespace || undefined, (spec.selector ?? []).join(','))).items ?? [];
    } catch (err) {
      await ctx.output.addJson(errorsFile, [errorText(err)]);
      throw err;
    }
    if (pods.length === 0) ctx.log('info', `no pods match ${describeSelector(spec)}`);

    const options = logOptions(spec);
    let attempted = 0;
    const failures: string[] = [];
    for (const pod of pods) {
      const podName = pod.metadata?.name;
      const namespace = pod.metadata?.namespace ?? spec.namespace;
      if (!podName || !namespace) continue;
      for (const container of spec.containerNames ?? containersOf(pod)) {
        if (ctx.signal.aborted) return;
        attempted++;
        try {
          await collectContainer(ctx, client, { namespace, pod: podName, container, folder }, options);
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          const message = errorText(err);
          failures.push(`${namespace}/${podName}/${container}: ${message}`);
          await ctx.output.addJson(joinPath(folder, podName, `${container}-errors.json`), [message]);
        }
      }
    }
    if (attempted > 0 && failures.length === attempted)
      throw new Error(`no container log could be read; first: ${failures[0]}`);
  },
});

interface Target {
  namespace: string;
  pod: string;
  container: string;
  folder: string;
}

async function collectContainer(
  ctx: CollectorContext<LogsSpec>,
  client: KubeClient,
  target: Target,
  options: Omit<LogOptions, 'container'>,
): Promise<void> {
  const base = `cluster-resources/pods/logs/${target.namespace}/${target.pod}/${target.container}`;
  const link = joinPath(target.folder, target.pod, target.container);
  await streamInto(ctx, client, target, { ...options, container: target.container }, `${base}.log`, `${link}.log`);
  try {
    await streamInto(
      ctx,
      client,
      target,
      { ...options, container: target.container, previous: true },
      `${base}-previous.log`,
      `${link}-previous.log`,
    );
  } catch (err) {
    // The API answers 400 when the container never restarted: no previous log is the normal case.
    if (ctx.signal.aborted) throw err;
  }
}

async function streamInto(
  ctx: CollectorContext<LogsSpec>,
  client: KubeClient,
  target: Target,
  options: LogOptions,
  file: string,
  link: string,
): Promise<void> {
  const body = new PassThrough();
  // Resolves once the server has answered 200 and the body is piping into `body`.
  await client.streamLog(target.namespace, target.pod, options, body);
  await ctx.output.addStream(file, body);
  const linked = await ctx.output.addSymlink(link, posix.relative(posix.dirname(link), file));
  if (!linked) ctx.log('debug', `bundle holds no symlinks; ${link} not written`);
}

/** troubleshoot's precedence: sinceTime, else maxAge, else maxLines (default 10,000); bytes always capped. */
export function logOptions(spec: LogsSpec): Omit<LogOptions, 'container'> {
  const limits = spec.limits ?? {};
  const out: Omit<LogOptions, 'container'> = { limitBytes: limits.maxBytes ?? DEFAULT_MAX_BYTES };
  if (spec.timestamps) out.timestamps = true;
  if (limits.sinceTime) {
    out.sinceTime = new Date(limits.sinceTime).toISOString().replace(/\.\d{3}Z$/, 'Z');
  } else if (limits.maxAge) {
    // troubleshoot turns maxAge into a sinceTime; the API server takes the same as sinceSeconds.
    out.sinceSeconds = Math.max(1, Math.ceil(parseGoDuration(limits.maxAge)! / 1000));
  } else {
    out.tailLines = limits.maxLines ?? DEFAULT_MAX_LINES;
  }
  return out;
}

function containersOf(pod: KubeObject): string[] {
  const spec = (pod as { spec?: { containers?: { name?: string }[]; initContainers?: { name?: string }[] } }).spec;
  return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]
    .map((c) => c.name)
    .filter((n): n is string => typeof n === 'string' && n !== '');
}

function describeSelector(spec: LogsSpec): string {
  const where = spec.namespace ? `namespace ${spec.namespace}` : 'any namespace';
  return spec.selector?.length ? `${spec.selector.join(',')} in ${where}` : `every pod in ${where}`;
}

function trimSlashes(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

function joinPath(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}
