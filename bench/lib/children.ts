// Every process the benchmark spawns is registered here so an interrupted or failed run never
// leaves worker processes or redis-servers behind.
import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let hooked = false;

export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        for (const c of live) c.kill('SIGKILL');
        process.exit(130);
      });
    }
  }
  return child;
}
