#!/usr/bin/env node
// `npm run bench [-- --quick] [--only dispatch,reconcile] [--profile]`: the benchmark suite in
// bench/ (docs/BENCHMARKS.md). Builds the apps first (scenarios start dist/apps/*/main.js), then
// runs bench/main.ts through bench/register.js (swc, as jest does).
'use strict';
const { join } = require('node:path');
const { ROOT, ensureDependencies, ensureRedis, build, runOrExit } = require('./lib');

ensureDependencies();
ensureRedis();
if (!process.argv.includes('--no-build')) build();
const args = process.argv.slice(2).filter((a) => a !== '--no-build');
runOrExit(process.execPath, ['-r', join(ROOT, 'bench', 'register.js'), join(ROOT, 'bench', 'main.ts'), ...args]);
