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
// No --forceExit: a test that leaves a handle open (e.g. a connection given to a BullMQ Queue, which
// BullMQ never closes) should show as a hang here, not be hidden.
process.exit(run(process.execPath, [jest, ...process.argv.slice(2)]));
