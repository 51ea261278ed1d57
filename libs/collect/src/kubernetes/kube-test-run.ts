import { createDefaultRegistry } from '../default-registry';
import { runCollectors, type CollectEvent, type CollectorsSummary } from '../framework/run-collectors';
import { parseSpec } from '../spec/spec-parser';
import { MemorySink } from '../test-helpers';

/** For the Kubernetes collectors' tests: run `collectors` (troubleshoot entries) with the default registry. */
export async function runClusterCollectors(
  collectors: Record<string, unknown>[],
  env: Record<string, string | undefined>,
  options: { timeoutMs?: number } = {},
): Promise<{ sink: MemorySink; summary: CollectorsSummary; events: CollectEvent[]; everything: string }> {
  const { spec } = parseSpec({ apiVersion: 'troubleshoot.sh/v1beta2', kind: 'SupportBundle', spec: { collectors } });
  const sink = new MemorySink();
  const events: CollectEvent[] = [];
  const summary = await runCollectors(spec, sink, {
    registry: createDefaultRegistry(),
    env,
    timeoutMs: options.timeoutMs ?? 15_000,
    onProgress: (event) => events.push(event),
  });
  // Every byte the run produced: bundle files, link targets and progress events (log lines, errors).
  const everything = [
    ...[...sink.files].map(([path, data]) => `${path}\n${data.toString('utf8')}`),
    ...[...sink.links].map(([path, target]) => `${path} -> ${target}`),
    ...events.map((e) => JSON.stringify(e)),
  ].join('\n');
  return { sink, summary, events, everything };
}
