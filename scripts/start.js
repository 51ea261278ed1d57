#!/usr/bin/env node
// `npm start`: install what is missing, build, then `cronbundle up` (embedded Redis, all apps).
'use strict';
const { join } = require('node:path');
const { ROOT, ensureDependencies, ensureRedis, build } = require('./lib');

ensureDependencies();
if (!process.env.REDIS_URL) ensureRedis();
build();
// Hand over to the CLI in this process, so Ctrl-C reaches it directly.
process.argv = [process.argv[0], join(ROOT, 'dist', 'apps', 'cli', 'main.js'), 'up', ...process.argv.slice(2)];
require(join(ROOT, 'dist', 'apps', 'cli', 'main.js'));
