// What a scenario hands back: named figures (each a summary over repetitions, often a ratio
// against a baseline measured in the same repetition) plus free-form details for results.json.
import type { Summary } from './stats.js';

export interface Goal {
  op: '>=' | '<=';
  value: number;
}

export interface Figure {
  /** Scenario number and short name, e.g. `1 throttled`. */
  scenario: string;
  metric: string;
  /** `x` ratio, `%`, `jobs/s`, `items/s`, `ms`, `B`, `calls`, `jobs`, `s`. */
  unit: string;
  summary: Summary;
  goal?: Goal;
  /** Whether the median meets the goal; undefined when there is no goal. */
  met?: boolean;
}

export interface ScenarioEnv {
  mode: 'quick' | 'full';
  reps: number;
  /** Scenario 1 at Intune's real 200 per 20 s instead of the scaled 20 per 2 s. */
  realLimit: boolean;
  /** Directory for CPU profiles when `--profile` is given. */
  profileDir?: string;
  log(line: string): void;
}

export interface ScenarioOutput {
  figures: Figure[];
  details: Record<string, unknown>;
}

export interface Scenario {
  id: string;
  title: string;
  run(env: ScenarioEnv): Promise<ScenarioOutput>;
}

export function figure(
  scenario: string,
  metric: string,
  unit: string,
  summary: Summary,
  goal?: Goal,
): Figure {
  // A figure that could not be measured (n/a: a ratio over 0, a missing baseline) never meets a goal.
  const met = goal
    ? !Number.isFinite(summary.median)
      ? false
      : goal.op === '>='
        ? summary.median >= goal.value
        : summary.median <= goal.value
    : undefined;
  return { scenario, metric, unit, summary, goal, met };
}

/** Runs `fn` for each repetition; odd repetitions get `flip` so paired runs alternate order. */
export async function repeat<T>(
  env: ScenarioEnv,
  label: string,
  fn: (rep: number, flip: boolean) => Promise<T>,
): Promise<T[]> {
  const out: T[] = [];
  for (let rep = 0; rep < env.reps; rep++) {
    const started = Date.now();
    out.push(await fn(rep, rep % 2 === 1));
    env.log(
      `  ${label}: repetition ${rep + 1}/${env.reps} done in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  return out;
}
