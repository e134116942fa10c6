// scripts/ensure-system-deps.mjs, which `npm test` and `npm run demo` run first: present programs pass
// silently; a missing one that this user may not install stops with one line naming the package.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = join(process.cwd(), 'scripts', 'ensure-system-deps.mjs');
// A PATH with nothing on it: no redis-server, no apt-get, no sudo.
const EMPTY_DIR = mkdtempSync(join(tmpdir(), 'offboard-empty-path-'));
afterAll(() => rmSync(EMPTY_DIR, { recursive: true, force: true }));

function ensure(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { env, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('ensure-system-deps', () => {
  it('passes silently when Chromium and redis-server are there', () => {
    // Any executable stands in for Chromium: the script checks that it is there, the tests launch it.
    const r = ensure(['chromium', 'redis-server'], {
      PATH: process.env.PATH ?? '',
      OFFBOARD_CHROMIUM: process.execPath,
    });
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('Chromium missing and installing not allowed: one line saying what to install, exit 1', () => {
    const r = ensure(['chromium'], {
      PATH: process.env.PATH ?? '',
      OFFBOARD_CHROMIUM: '/nonexistent/chromium',
      OFFBOARD_NO_INSTALL: '1',
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('/nonexistent/chromium');
    expect(lines[0]).toContain('apt-get install chromium');
    expect(lines[0]).toContain('OFFBOARD_CHROMIUM');
  });

  it('without apt-get or sudo (not root), nothing is attempted: the same one line for both programs', () => {
    const r = ensure(['chromium', 'redis-server'], {
      PATH: EMPTY_DIR,
      OFFBOARD_CHROMIUM: '/nonexistent/chromium',
      // Running as root in CI: the empty PATH alone (no apt-get) must stop the install.
    });
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('apt-get install chromium redis-server');
    expect(lines[0]).not.toMatch(/^installing/);
  });

  it('the demo accepts an external Redis instead of redis-server (REDIS_URL)', () => {
    const args = ['redis-server', '--unless-env', 'REDIS_URL'];
    expect(ensure(args, { PATH: EMPTY_DIR, REDIS_URL: 'redis://10.0.0.5:6379' }).code).toBe(0);
    const r = ensure(args, { PATH: EMPTY_DIR, OFFBOARD_NO_INSTALL: '1' });
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/apt-get install redis-server .*or set REDIS_URL$/),
    ]);
  });

  it('an unknown requirement is a usage error (exit 2)', () => {
    expect(ensure(['firefox'], { PATH: process.env.PATH ?? '' }).code).toBe(2);
  });
});
