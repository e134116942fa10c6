// `npm run bench`: runs the scenarios, prints one Markdown table and writes bench/results.json
// (a full, unfiltered run also writes bench/results.full.json, the figures BENCHMARKS.md quotes).
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { BenchUsageError, parseArgs } from './lib/args.js';
import { prepareBuild } from './lib/build.js';
import type { Figure, Scenario, ScenarioEnv } from './lib/figures.js';
import { BENCH_DIR, ROOT } from './lib/paths.js';
import { type ProfileSummary, profileMarkdown, summarizeProfiles } from './lib/profile.js';
import { startBenchRedis } from './lib/redis.js';
import { markdownTable } from './lib/report.js';
import { intake } from './scenarios/intake.js';
import { latency } from './scenarios/latency.js';
import { memory } from './scenarios/memory.js';
import { mixed } from './scenarios/mixed.js';
import { overhead } from './scenarios/overhead.js';
import { scaling } from './scenarios/scaling.js';
import { tenants } from './scenarios/tenants.js';
import { throttled } from './scenarios/throttled.js';

const SCENARIOS: Scenario[] = [throttled, overhead, intake, latency, memory, scaling, mixed, tenants];

function version(pkg: string): string {
  try {
    return (
      JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
}

function writeJson(file: string, value: unknown): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}

async function main(): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(
      process.argv.slice(2),
      SCENARIOS.map((s) => s.id),
    );
  } catch (err) {
    if (err instanceof BenchUsageError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const started = Date.now();
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const build = prepareBuild(log);
  const selected = args.only.length ? SCENARIOS.filter((s) => args.only.includes(s.id)) : SCENARIOS;
  const stamp = new Date().toISOString();
  const profileDir = args.profile
    ? join(BENCH_DIR, '.tmp', 'profiles', stamp.replace(/[:.]/g, '-'))
    : undefined;
  const env: ScenarioEnv = { mode: args.mode, reps: args.reps, realLimit: args.realLimit, profileDir, log };
  const probe = await startBenchRedis();
  const redisVersion = probe.version;
  await probe.stop();
  const meta = {
    date: stamp,
    mode: args.mode,
    args: process.argv.slice(2),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      kernel: release(),
      loadAverageAtStart: loadavg(),
    },
    build: build.commit,
    versions: {
      node: process.version,
      redis: redisVersion,
      bullmq: version('bullmq'),
      ioredis: version('ioredis'),
      '@azure/msal-node': version('@azure/msal-node'),
      fastify: version('fastify'),
    },
  };
  log(
    `offboard benchmark (${args.mode}, ${args.reps} repetitions) · ${meta.machine.cpu} × ${meta.machine.cores} · ` +
      `node ${process.version} · redis ${redisVersion} · bullmq ${meta.versions.bullmq} · load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  const figures: Figure[] = [];
  const scenarios: Record<string, unknown> = {};
  const failures: Record<string, string> = {};
  for (const s of selected) {
    log(`\n## ${s.id}: ${s.title}`);
    const t0 = Date.now();
    try {
      const out = await s.run(env);
      figures.push(...out.figures);
      scenarios[s.id] = { wallTimeSec: (Date.now() - t0) / 1000, ...out.details };
    } catch (err) {
      const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      failures[s.id] = message;
      log(`  FAILED: ${message}`);
    }
    log(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  let profiles: Record<string, ProfileSummary> | undefined;
  if (profileDir && existsSync(profileDir)) {
    profiles = {};
    log(`\nCPU profiles in ${profileDir}`);
    for (const sub of readdirSync(profileDir)) {
      const summary = summarizeProfiles(join(profileDir, sub));
      profiles[sub] = summary;
      log(`\n${profileMarkdown(sub, summary)}`);
    }
  }
  const wallTimeSec = (Date.now() - started) / 1000;
  const table = markdownTable(figures);
  log(`\n${table}\n`);
  log(
    `wall time ${wallTimeSec.toFixed(0)} s · load average at end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const results = {
    meta: { ...meta, wallTimeSec, loadAverageAtEnd: loadavg() },
    figures,
    failures,
    scenarios,
    profiles,
    table,
  };
  writeJson(join(BENCH_DIR, 'results.json'), results);
  // The reference figures BENCHMARKS.md quotes: only a complete, unmodified full run of this
  // checkout's build replaces them.
  const reference =
    args.mode === 'full' &&
    !args.only.length &&
    !args.realLimit &&
    !args.profile &&
    !process.env.OFFBOARD_BENCH_CLI;
  if (reference) writeJson(join(BENCH_DIR, 'results.full.json'), results);
  log(`wrote bench/results.json${reference ? ' and bench/results.full.json' : ''}`);
  return Object.keys(failures).length ? 1 : 0;
}

process.exitCode = await main();
// Anything a failed scenario left open must not keep the process alive.
setTimeout(() => process.exit(), 5000).unref();
