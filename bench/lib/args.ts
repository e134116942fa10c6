// Command-line flags of `npm run bench`.
export interface BenchArgs {
  mode: 'quick' | 'full';
  only: string[];
  realLimit: boolean;
  profile: boolean;
  /** Repetitions per scenario; at least 3. */
  reps: number;
}

export class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError';
}

export const USAGE = `usage: npm run bench -- [--quick | --full] [--only <scenario>[,<scenario>…]] [--real-limit] [--profile] [--reps N]
  --quick        small N, 3 repetitions each, under 2 minutes (CI smoke)
  --full         the documented run (default)
  --only         throttled, overhead, intake, latency, memory, scaling, mixed, tenants
  --real-limit   scenario 1 at Intune's real 200 POST per 20 s instead of 20 per 2 s
  --profile      write V8 CPU profiles of the worker processes in scenario 2 and summarise them
  --reps N       repetitions per scenario (minimum 3, default 3)`;

export function parseArgs(argv: readonly string[], known: readonly string[]): BenchArgs {
  const out: BenchArgs = { mode: 'full', only: [], realLimit: false, profile: false, reps: 3 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--quick') out.mode = 'quick';
    else if (a === '--full') out.mode = 'full';
    else if (a === '--real-limit') out.realLimit = true;
    else if (a === '--profile') out.profile = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const v = a.includes('=') ? a.slice(7) : argv[++i];
      if (!v) throw new BenchUsageError('--only needs a scenario name');
      out.only.push(
        ...v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      );
    } else if (a === '--reps' || a.startsWith('--reps=')) {
      const v = Number(a.includes('=') ? a.slice(7) : argv[++i]);
      if (!Number.isInteger(v) || v < 3)
        throw new BenchUsageError('--reps must be a whole number of at least 3');
      out.reps = v;
    } else if (a === '--help' || a === '-h') throw new BenchUsageError(USAGE);
    else throw new BenchUsageError(`unknown option ${a}\n${USAGE}`);
  }
  const unknown = out.only.filter((s) => !known.includes(s));
  if (unknown.length)
    throw new BenchUsageError(`unknown scenario ${unknown.join(', ')}; known: ${known.join(', ')}`);
  return out;
}
