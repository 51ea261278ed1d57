#!/usr/bin/env node
// The package's `cronbundle` command: the built CLI (run `npm run build` first).
require('../dist/apps/cli/main.js');
