// Helpers for the npm scripts. Node built-ins only: these run before `npm ci` on a fresh clone.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');

// NestJS 12 ships ES modules only; the built apps load them with require(esm), on by default
// from Node 20.19.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`cronbundle needs Node.js 20.19 or newer (this is ${process.versions.node}).`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function runOrExit(cmd, args, opts) {
  const code = run(cmd, args, opts);
  if (code !== 0) process.exit(code);
}

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/**
 * npm dependencies, when node_modules is missing or older than the lock file. `npm install`, not
 * `npm ci`: see .ci/run for why.
 */
function ensureDependencies() {
  const marker = join(ROOT, 'node_modules', '.package-lock.json');
  const lock = join(ROOT, 'package-lock.json');
  const fs = require('node:fs');
  if (existsSync(marker) && fs.statSync(marker).mtimeMs >= fs.statSync(lock).mtimeMs) return;
  console.log('> installing npm dependencies');
  runOrExit('npm', ['install', '--no-audit', '--no-fund']);
}

/**
 * redis-server on PATH, installed with apt-get when possible (root or passwordless sudo),
 * otherwise one line saying how, and a non-zero exit.
 */
function ensureRedis() {
  if (has('redis-server')) return;
  if (has('apt-get')) {
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    const sudo = isRoot ? [] : has('sudo') && spawnSync('sudo', ['-n', 'true']).status === 0 ? ['sudo', '-n'] : null;
    if (sudo) {
      console.log('> installing redis-server (apt-get)');
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      const pre = sudo.length ? sudo : [];
      const cmd = (args) =>
        pre.length ? run(pre[0], [...pre.slice(1), ...args], { env }) : run(args[0], args.slice(1), { env });
      cmd(['apt-get', 'update', '-qq']);
      if (cmd(['apt-get', 'install', '-y', '-qq', 'redis-server']) === 0 && has('redis-server')) {
        // Debian starts a system redis on 6379 on install; cronbundle runs its own, so leave it be.
        return;
      }
    }
  }
  console.error(
    'redis-server is not installed. Install it with `sudo apt-get install -y redis-server` (Debian/Ubuntu) or ' +
      '`brew install redis` (macOS), or run `docker compose up -d redis` and set REDIS_URL=redis://127.0.0.1:6379.',
  );
  process.exit(1);
}

function build() {
  runOrExit(process.execPath, [join(ROOT, 'scripts', 'build.js')]);
}

module.exports = { ROOT, run, runOrExit, has, ensureDependencies, ensureRedis, build };
