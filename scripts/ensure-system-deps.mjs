#!/usr/bin/env node
// Makes sure the system programs that `npm test` and `npm run demo` drive are installed, so the
// README's commands work on a fresh Debian machine: Debian's `chromium` (the browser tests) and
// `redis-server` (tests and demo). A missing one is installed with apt-get when this user may (root,
// or passwordless sudo); otherwise the script stops with one line saying what to install (exit 1).
//
//   node scripts/ensure-system-deps.mjs chromium redis-server
//   node scripts/ensure-system-deps.mjs redis-server --unless-env REDIS_URL   (the demo: an external Redis will do)
//
// OFFBOARD_CHROMIUM: the Chromium binary the browser tests launch (default /usr/bin/chromium).
// OFFBOARD_NO_INSTALL=1: never install, only check and explain.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** What each requirement is, where it is looked for, and the Debian package that provides it. */
const REQUIREMENTS = {
  chromium: {
    what: 'Chromium for the browser tests',
    aptPackage: 'chromium',
    find: () => {
      const path = process.env.OFFBOARD_CHROMIUM || '/usr/bin/chromium';
      return { where: `at ${path}`, found: isExecutable(path) ? path : null };
    },
    alternative: 'or set OFFBOARD_CHROMIUM to a Chromium binary',
  },
  'redis-server': {
    what: 'redis-server',
    aptPackage: 'redis-server',
    find: () => {
      const found = onPath('redis-server');
      return { where: 'on PATH', found };
    },
    alternative: null,
  },
};

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(command) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, command))) return join(dir, command);
  }
  return null;
}

/** How this process may run apt-get: directly (root), through passwordless sudo, or not at all. */
function aptRunner() {
  if (process.env.OFFBOARD_NO_INSTALL === '1' || process.env.OFFBOARD_NO_INSTALL === 'true') return null;
  if (!onPath('apt-get')) return null;
  if (typeof process.getuid === 'function' && process.getuid() === 0) return [];
  const sudo = spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' });
  return sudo.status === 0 ? ['sudo', '-n'] : null;
}

function run(prefix, args) {
  const [cmd, ...rest] = [...prefix, ...args];
  const r = spawnSync(cmd, rest, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return r.status === 0;
}

function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const names = [];
  let unlessEnv = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--unless-env') unlessEnv = argv[++i] ?? null;
    else names.push(argv[i]);
  }
  const unknown = names.filter((n) => !(n in REQUIREMENTS));
  if (names.length === 0 || unknown.length > 0 || (argv.includes('--unless-env') && !unlessEnv)) {
    process.stderr.write(
      `usage: ensure-system-deps.mjs ${Object.keys(REQUIREMENTS).join('|')}… [--unless-env NAME]\n`,
    );
    process.exit(2);
  }
  return { names, unlessEnv };
}

function main() {
  const { names, unlessEnv } = parseArgs(process.argv.slice(2));
  if (unlessEnv && process.env[unlessEnv]) return;
  const missing = names.map((n) => [n, REQUIREMENTS[n]]).filter(([, r]) => !r.find().found);
  if (missing.length === 0) return;

  const packages = missing.map(([, r]) => r.aptPackage);
  const runner = aptRunner();
  if (runner) {
    process.stderr.write(`installing ${packages.join(' ')} from Debian (apt-get) for the tests and demo\n`);
    if (
      run(runner, ['apt-get', 'update', '-qq']) &&
      run(runner, ['apt-get', 'install', '-y', '-qq', ...packages])
    ) {
      const still = missing.filter(([, r]) => !r.find().found);
      if (still.length === 0) return;
    }
  }
  // One line: what is missing, where it was looked for, the command that installs it.
  const what = missing.map(([, r]) => `${r.what} (not found ${r.find().where})`).join(', ');
  const alternatives = missing.map(([, r]) => r.alternative).filter(Boolean);
  if (unlessEnv) alternatives.push(`or set ${unlessEnv}`);
  fail(
    `offboard: not installed: ${what}; install with: apt-get install ${packages.join(' ')} (as root)` +
      (alternatives.length ? `; ${alternatives.join('; ')}` : ''),
  );
}

main();
