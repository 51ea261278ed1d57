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

/** True when some PostgreSQL server binary is installed (Debian keeps them off PATH). */
function hasPostgres() {
  const fs = require('node:fs');
  const root = '/usr/lib/postgresql';
  if (has('postgres')) return true;
  if (!existsSync(root)) return false;
  return fs.readdirSync(root).some((v) => existsSync(join(root, v, 'bin', 'postgres')));
}

/** System packages the tests need: the command that tells they are there, the apt package, how else. */
const SYSTEM_PACKAGES = {
  redis: {
    present: () => has('redis-server'),
    apt: 'redis-server',
    otherwise:
      '`sudo apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis` (macOS), or run ' +
      '`docker compose up -d redis` and set REDIS_URL=redis://127.0.0.1:6379',
  },
  postgres: {
    present: hasPostgres,
    apt: 'postgresql',
    otherwise: '`sudo apt-get install -y postgresql` (Debian/Ubuntu) or `brew install postgresql` (macOS)',
  },
  mariadb: {
    present: () => has('mariadbd') || existsSync('/usr/sbin/mariadbd'),
    apt: 'mariadb-server',
    otherwise: '`sudo apt-get install -y mariadb-server` (Debian/Ubuntu) or `brew install mariadb` (macOS)',
  },
};

/**
 * Each named system package, installed with apt-get when missing and possible (root or
 * passwordless sudo), otherwise one line per package saying how, and a non-zero exit. The apt
 * packages' own services are not used (Debian may start them): the apps and tests run their own
 * servers on free ports.
 */
function ensureSystemPackages(names) {
  const missing = names.filter((n) => !SYSTEM_PACKAGES[n].present());
  if (missing.length === 0) return;
  if (has('apt-get')) {
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    const sudo = isRoot ? [] : has('sudo') && spawnSync('sudo', ['-n', 'true']).status === 0 ? ['sudo', '-n'] : null;
    if (sudo) {
      const pkgs = missing.map((n) => SYSTEM_PACKAGES[n].apt);
      console.log(`> installing ${pkgs.join(', ')} (apt-get)`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      const cmd = (args) =>
        run(sudo[0] ?? args[0], [...sudo.slice(1), ...(sudo.length ? args : args.slice(1))], { env });
      cmd(['apt-get', 'update', '-qq']);
      cmd(['apt-get', 'install', '-y', '-qq', ...pkgs]);
    }
  }
  const still = missing.filter((n) => !SYSTEM_PACKAGES[n].present());
  if (still.length === 0) return;
  for (const n of still)
    console.error(`${SYSTEM_PACKAGES[n].apt} is not installed. Install it with ${SYSTEM_PACKAGES[n].otherwise}.`);
  process.exit(1);
}

/** redis-server for `npm start` (the embedded default). */
function ensureRedis() {
  ensureSystemPackages(['redis']);
}

function build() {
  runOrExit(process.execPath, [join(ROOT, 'scripts', 'build.js')]);
}

module.exports = { ROOT, run, runOrExit, has, ensureDependencies, ensureRedis, ensureSystemPackages, build };
