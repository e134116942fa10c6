// Builds dist/ once so tests can spawn the real CLI (`node dist/cli.js …`) as child processes, and
// creates the simulator's TLS certificate once. Node reads NODE_EXTRA_CA_CERTS only at process start,
// so it must be in the environment before vitest forks its workers (they, and their children, inherit it).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureSimCertificate } from '../src/sim/tls.js';

export default async function setup(): Promise<() => void> {
  try {
    execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  } catch {
    // tsc still emits dist/ on type errors; CI fails earlier on `npm run build` and `npm run lint`.
    console.warn('global-setup: tsc reported errors; dist/ was emitted anyway');
  }
  const dir = mkdtempSync(join(tmpdir(), 'offboard-test-tls-'));
  const { certFile } = await ensureSimCertificate(dir);
  process.env.OFFBOARD_SIM_TLS_DIR = dir;
  process.env.NODE_EXTRA_CA_CERTS = certFile;
  return () => rmSync(dir, { recursive: true, force: true });
}
