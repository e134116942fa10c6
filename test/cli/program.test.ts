// The command table (src/cli/program.ts): `--version`, `--help` without loading any command module,
// lazy loading of exactly the command that runs, and one style for every description.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProgram, COMMANDS, commandNamed } from '../../src/cli/program.js';
import { CLI } from '../helpers/processes.js';
import { HALF_BUILT, runCli } from './run-cli.js';

const PACKAGE_VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

// A resolve hook that appends every module URL the CLI imports to $TRACE_FILE.
const HOOK = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.TRACE_FILE, r.url + '\\n');
  return r;
}`;
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOK)}`)});`;

const dir = mkdtempSync(join(tmpdir(), 'offboard-cli-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `node dist/cli.js …args` and returns the module URLs it imported (dist/ paths, relative). */
function importsOf(args: string[], name: string): { code: number | null; modules: string[] } {
  const traceFile = join(dir, `${name}.txt`);
  for (let attempt = 1; ; attempt++) {
    rmSync(traceFile, { force: true });
    const r = spawnSync(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, CLI, ...args],
      {
        env: { PATH: process.env.PATH, LOG_LEVEL: 'silent', TRACE_FILE: traceFile },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    // Another test run in this checkout may be rebuilding dist/: retry that, nothing else.
    if (r.status !== 0 && HALF_BUILT.test(r.stderr) && attempt < 5) continue;
    expect(r.stderr).not.toMatch(/Error/);
    const urls = readFileSync(traceFile, 'utf8').split('\n').filter(Boolean);
    return {
      code: r.status,
      modules: [
        ...new Set(urls.map((u) => u.replace(/^.*\/dist\//, 'dist/').replace(/^.*\/node_modules\//, ''))),
      ],
    };
  }
}

describe('offboard --version', () => {
  it('prints the package version (the one the API reports) and exits 0', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag], {});
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(PACKAGE_VERSION);
    }
  });
});

describe('offboard --help', () => {
  it('lists every command with its description and exits 0', async () => {
    const r = await runCli(['--help'], {});
    expect(r.code, r.stderr).toBe(0);
    const flat = r.stdout.replace(/\s+/g, ' ');
    for (const c of COMMANDS) expect(flat).toContain(`${c.name} ${c.description}`);
    expect(flat).toContain('--version');
  });

  it('loads no command module; a command loads only its own module', () => {
    const help = importsOf(['--help'], 'help');
    expect(help.code).toBe(0);
    expect(help.modules).toContain('dist/cli/program.js');
    expect(help.modules.filter((m) => m.startsWith('dist/cli/commands/'))).toEqual([]);
    expect(help.modules.filter((m) => /^(bullmq|ioredis|fastify|zod|@azure)\//.test(m))).toEqual([]);

    const enqueue = importsOf(['enqueue', '--help'], 'enqueue');
    expect(enqueue.code).toBe(0);
    expect(enqueue.modules.filter((m) => m.startsWith('dist/cli/commands/'))).toEqual([
      'dist/cli/commands/enqueue.js',
    ]);
    expect(enqueue.modules.some((m) => m.startsWith('dist/api/'))).toBe(false);
  });

  it('unknown commands are still usage errors (exit 2)', async () => {
    const r = await runCli(['frobnicate'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
  });
});

describe('command table', () => {
  it('finds the command a command line names', () => {
    expect(commandNamed(['worker', '--concurrency', '5'])).toBe('worker');
    expect(commandNamed(['--verbose', 'dlq', 'list'])).toBe('dlq');
    expect(commandNamed(['help', 'enqueue'])).toBe('enqueue');
    expect(commandNamed(['--help'])).toBeUndefined();
  });

  it('every command and subcommand description is imperative style: capitalised, no final full stop', async () => {
    const program = buildProgram();
    for (const entry of COMMANDS) {
      const cmd = program.commands.find((c) => c.name() === entry.name) as Command;
      (await entry.load())(cmd);
    }
    const all: Command[] = [];
    const walk = (c: Command) => {
      for (const sub of c.commands) {
        all.push(sub);
        walk(sub);
      }
    };
    walk(program);
    expect(all.length).toBeGreaterThan(COMMANDS.length);
    for (const c of all) {
      const d = c.description();
      expect(d, c.name()).toMatch(/^[A-Z][a-z]+ /);
      expect(d, c.name()).not.toMatch(/\.$/);
    }
  });
});
