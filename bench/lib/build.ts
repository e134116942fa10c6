// Worker and API processes run the compiled product. It is rebuilt when src/ is newer than dist/,
// then copied to a private snapshot so that a rebuild during a long run (other work in the same
// checkout) cannot change the code under test halfway through.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './paths.js';

/** Inside node_modules so the snapshot resolves packages exactly like dist/ does. */
export const SNAPSHOT = join(ROOT, 'node_modules', '.cache', 'offboard-bench');

let cliPath = join(ROOT, 'dist', 'cli.js');

/** The CLI entry every spawned product process runs (the snapshot once `prepareBuild` ran). */
export function productCli(): string {
  return cliPath;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

export class BuildError extends Error {
  override readonly name = 'BuildError';
}

/**
 * Builds when needed (type errors still emit, as tsc does by default) and snapshots dist/.
 * OFFBOARD_BENCH_CLI=<path to another build's cli.js> runs that build instead (to measure a change).
 */
export function prepareBuild(log: (line: string) => void): { built: boolean; commit: string } {
  const other = process.env.OFFBOARD_BENCH_CLI;
  if (other) {
    if (!existsSync(other)) throw new BuildError(`OFFBOARD_BENCH_CLI: ${other} does not exist`);
    cliPath = other;
    log(`measuring the build at ${other} (OFFBOARD_BENCH_CLI)`);
    return { built: false, commit: `OFFBOARD_BENCH_CLI=${other}` };
  }
  const cli = join(ROOT, 'dist', 'cli.js');
  let built = false;
  if (!existsSync(cli) || statSync(cli).mtimeMs < newestMtime(join(ROOT, 'src'))) {
    log('dist/ is older than src/: building with tsc -p tsconfig.json');
    const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
    const r = spawnSync(tsc, ['-p', join(ROOT, 'tsconfig.json')], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0)
      log(`tsc reported errors (continuing with what it emitted):\n${(r.stdout ?? '').slice(0, 2000)}`);
    built = true;
  }
  if (!existsSync(cli)) throw new BuildError('dist/cli.js is missing after the build');
  rmSync(SNAPSHOT, { recursive: true, force: true });
  mkdirSync(SNAPSHOT, { recursive: true });
  // The same layout as the checkout: dist/, the non-TypeScript assets dist/ reads from src/ (Lua
  // scripts), and package.json ("type": "module", the version the API reports).
  cpSync(join(ROOT, 'dist'), join(SNAPSHOT, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'src'), join(SNAPSHOT, 'src'), {
    recursive: true,
    filter: (from) => !from.endsWith('.ts'),
  });
  cpSync(join(ROOT, 'package.json'), join(SNAPSHOT, 'package.json'));
  cliPath = join(SNAPSHOT, 'dist', 'cli.js');
  return { built, commit: gitDescribe() };
}

function gitDescribe(): string {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  if (head.status !== 0) return 'unknown';
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' });
  return `${head.stdout.trim()}${dirty.stdout.trim() ? ' + uncommitted src changes' : ''}`;
}
