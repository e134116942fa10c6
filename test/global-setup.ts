// Builds dist/ once so tests can spawn the real CLI (`node dist/cli.js …`) as child processes.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
}
