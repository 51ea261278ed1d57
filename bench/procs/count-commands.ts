import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * Counts every command this process sends to Redis (ioredis `sendCommand`, pipelined ones
 * included), by name, and answers `{type:'stats'}` over IPC with the counts and the heap/RSS.
 * Imported first by the bench's child processes.
 */
const counts: Record<string, number> = {};
let total = 0;

/** sha1 → name of cronbundle's Lua scripts, so EVALSHA counts say which script ran. */
const scriptNames = new Map<string, string>();
function learnScripts(): void {
  const modules: [string, string][] = [
    ['exec', '../../libs/executions/src/execution-store.scripts'],
    ['registry', '../../libs/registry/src/registry.scripts'],
    ['coord', '../../libs/coordination/src/redis-script'],
  ];
  for (const [label, path] of modules) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(path) as Record<string, unknown>;
      for (const [name, value] of Object.entries(mod))
        if (typeof value === 'string')
          scriptNames.set(createHash('sha1').update(value).digest('hex'), `${label}.${name}`);
    } catch {
      // A module moved: its scripts are counted by sha only.
    }
  }
}
learnScripts();

type SendCommand = (this: Redis, command: { name: string; args: unknown[] }, ...rest: unknown[]) => unknown;
const proto = Redis.prototype as unknown as { sendCommand: SendCommand };
const original = proto.sendCommand;
proto.sendCommand = function countingSendCommand(command, ...rest) {
  let name = command.name;
  if (name === 'evalsha') {
    const sha = String(command.args[0]);
    name = `evalsha ${scriptNames.get(sha) ?? `(bullmq/other ${sha.slice(0, 7)})`}`;
  } else if (name === 'eval') {
    name = `eval ${scriptNames.get(createHash('sha1').update(String(command.args[0])).digest('hex')) ?? '(inline)'}`;
  }
  counts[name] = (counts[name] ?? 0) + 1;
  total++;
  return original.call(this, command, ...rest);
};

export function commandCounts(): { total: number; byCommand: Record<string, number> } {
  return { total, byCommand: { ...counts } };
}

export function resetCommandCounts(): void {
  for (const k of Object.keys(counts)) delete counts[k];
  total = 0;
}

/** Reply helper for IPC requests `{type}` → `{type: type + ':reply', ...}`. */
export function onRequest(type: string, handler: (msg: Record<string, unknown>) => unknown | Promise<unknown>): void {
  process.on('message', (msg: { type?: string }) => {
    if (msg?.type !== type) return;
    void Promise.resolve(handler(msg as Record<string, unknown>)).then((body) =>
      process.send?.({ type: `${type}:reply`, ...(body as object) }),
    );
  });
}

onRequest('stats', () => ({ ...commandCounts(), memory: process.memoryUsage() }));
onRequest('reset', () => {
  resetCommandCounts();
  return {};
});
