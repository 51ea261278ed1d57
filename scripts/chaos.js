#!/usr/bin/env node
// `npm run chaos`: build the apps, then run the chaos suite (test/chaos/, docs/RELIABILITY.md):
// a private Redis with AOF, 2 schedulers, 3 workers and the api as real processes, a seeded random
// driver killing, pausing and restarting them, and the slot-ledger checker. Exit 0 only when the
// ledger holds. Options: --minutes N (10), --jobs N (200), --seed S, --settle-seconds N, --keep.
'use strict';
const Module = require('node:module');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { ROOT, ensureRedis, build } = require('./lib');

/**
 * The driver is TypeScript next to the other tests. Compile it on load with swc (a devDependency,
 * as for jest) and resolve `@cronbundle/<lib>` to libs/<lib>/src like tsconfig's paths do.
 */
function registerTypeScript() {
  const swc = require('@swc/core');
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    const m = /^@cronbundle\/([a-z-]+)$/.exec(request);
    if (m) request = m[1] === 'testing' ? join(ROOT, 'test', 'support') : join(ROOT, 'libs', m[1], 'src');
    return resolve.call(this, request, ...rest);
  };
  require.extensions['.ts'] = (module, filename) => {
    const { code } = swc.transformSync(readFileSync(filename, 'utf8'), {
      filename,
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
      },
      module: { type: 'commonjs' },
      sourceMaps: 'inline',
    });
    module._compile(code, filename);
  };
}

async function main() {
  registerTypeScript();
  const { parseChaosArgs, runChaos } = require(join(ROOT, 'test', 'chaos', 'chaos-main.ts'));
  let args;
  try {
    args = parseChaosArgs(process.argv.slice(2));
  } catch (err) {
    console.error(err.message);
    process.exit(2);
  }
  ensureRedis();
  build();
  process.exit(await runChaos(args));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
