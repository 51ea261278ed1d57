#!/usr/bin/env node
// `npm test`: install what is missing, build the apps (e2e tests run them), run every jest tier.
// Extra arguments go to jest, e.g. `npm test -- --selectProjects unit`.
'use strict';
const { join } = require('node:path');
const { ensureDependencies, ensureSystemPackages, build, run } = require('./lib');

ensureDependencies();
// Integration tests start their own redis-server, PostgreSQL and MariaDB on free ports.
ensureSystemPackages(['redis', 'postgres', 'mariadb']);
build();
const jest = join(__dirname, '..', 'node_modules', 'jest', 'bin', 'jest.js');
// --forceExit: after every suite has passed, some handle (not yet found; see the issue note) keeps
// jest's parent alive; without it CI would hang after a green run. Remove once the leak is fixed.
process.exit(run(process.execPath, [jest, '--forceExit', ...process.argv.slice(2)]));
