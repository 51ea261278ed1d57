// Require hook for the benchmark suite: compiles bench/, apps/ and libs/ TypeScript on the fly
// with @swc/core (the same options jest uses) and resolves the `@cronbundle/*` path aliases.
// Used as `node -r ./bench/register.js bench/main.ts` by scripts/bench.js and the bench's child
// processes, so `npm run bench` needs nothing beyond `npm install`.
'use strict';
const Module = require('node:module');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const swc = require('@swc/core');

const ROOT = join(__dirname, '..');
const SWC_OPTIONS = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

if (!Module._extensions['.ts']) {
  Module._extensions['.ts'] = function compileTs(module, filename) {
    const source = readFileSync(filename, 'utf8');
    const { code } = swc.transformSync(source, { ...SWC_OPTIONS, filename });
    module._compile(code, filename);
  };
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function resolveAlias(request, ...rest) {
    if (request === '@cronbundle/testing') request = join(ROOT, 'test', 'support');
    else if (request.startsWith('@cronbundle/')) request = join(ROOT, 'libs', request.slice(12), 'src');
    return resolve.call(this, request, ...rest);
  };
  process.setSourceMapsEnabled?.(true);
}
