#!/usr/bin/env node
// `npm run build`: every app into dist/apps/<app>/main.js (nest build, rspack builder).
// rspack does not type-check; `npm run typecheck` does, and CI runs both.
'use strict';
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');
const { ROOT } = require('./lib');

const APPS = ['api', 'scheduler', 'worker', 'cli'];
const nest = join(ROOT, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js');
const r = spawnSync(process.execPath, [nest, 'build', ...APPS], { cwd: ROOT, encoding: 'utf8' });
const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
process.stdout.write(output);
// The Nest CLI's rspack builder reports compile errors but may still exit 0.
if (r.status !== 0 || /compiled with .*error/i.test(output.replace(/\x1b\[[0-9;]*m/g, ''))) {
  console.error('build failed');
  process.exit(r.status || 1);
}
