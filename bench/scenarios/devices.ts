// 8. Device policy: leavers with 3 devices each (a personal iPhone, a company Windows laptop with an
// Autopilot identity, a company Android phone: the simulator's `leaver-mixed` fixtures) under a policy
// that retires the personal device, wipes the Android, and wipes, deletes and deregisters the laptop:
// 5 Intune writes per leaver, all in the one write budget (GRAPH_RATE_LIMIT = the simulator's limit),
// with the inventory and the Autopilot lookup on the read budget. Same fleet as scenario 1 (2 worker
// processes × 10). The writes must still run at ≥ 0.95 of the limit, with ≤ 1 % answered 429 and no
// call inside an announced Retry-After window: a leaver's several writes are paced like several leavers.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultDevices } from '../../src/sim/graph/devices.js';
import { startSimulator } from '../../src/sim/index.js';
import { type Figure, figure, repeat, type Scenario, type ScenarioEnv } from '../lib/figures.js';
import { startBenchRedis } from '../lib/redis.js';
import { summarize } from '../lib/stats.js';
import { leavers } from '../lib/system.js';
import { drain } from '../lib/throughput.js';

const S = '8 devices';
const PROCESSES = 2;
const CONCURRENCY = 10;
const SIM_LATENCY_MS = 20;
/** Writes per leaver under POLICY for a `leaver-mixed` user: retire + wipe + (wipe, delete, deregister). */
export const WRITES_PER_LEAVER = 5;

/** The benchmark's policy file (the README's `dispose` profile, with the Android wiped as company-owned). */
export const BENCH_POLICY = {
  default: 'dispose',
  profiles: {
    dispose: {
      rules: [
        {
          match: { ownerType: 'company', os: 'Windows' },
          actions: ['wipe', 'delete', 'autopilot-deregister'],
        },
        { match: { ownerType: 'company', os: 'Android' }, actions: ['wipe'] },
        { match: {}, actions: ['retire'] },
      ],
    },
  },
};

export interface DevicesRun {
  leavers: number;
  completed: number;
  /** Writes Graph accepted (204, or 404: already gone). */
  writes: number;
  /** Accepted writes ÷ the limit's rate. */
  idealMs: number;
  /** First write → last write, plus one slot. */
  sendingMs: number;
  /** Release → every leaver has an outcome. */
  actualMs: number;
  /** Ideal ÷ sending time: how much of the write budget the pace used. */
  efficiency: number;
  /** Ideal ÷ time to the last outcome (start-up and the inventory reads included). */
  efficiencyToLastOutcome: number;
  calls: number;
  throttledShare: number;
  insideRetryAfterWindow: number;
  byStatus: Record<string, number>;
  readsPerLeaver: number;
  readThrottled: number;
}

export const devices: Scenario = {
  id: 'devices',
  title: 'Device policy: 3 devices per leaver, 5 writes each, paced as one write budget',
  async run(env: ScenarioEnv) {
    const limit = env.realLimit ? { limit: 200, windowMs: 20_000 } : { limit: 20, windowMs: 2000 };
    // Writes for about a minute at the limit in a full run; six windows in quick mode (a leaver's writes
    // are sequential, so the last few leavers' tail weighs on a short run).
    const writes =
      env.mode === 'quick' ? limit.limit * 6 : Math.round((60_000 * limit.limit) / limit.windowMs);
    const n = Math.max(1, Math.round(writes / WRITES_PER_LEAVER));
    const readLimit = { limit: limit.limit * 10, windowMs: limit.windowMs };
    const readRate = `${limit.limit * 5}/${limit.windowMs}ms`;
    const dir = mkdtempSync(join(tmpdir(), 'offboard-bench-policy-'));
    const policyFile = join(dir, 'device-policy.json');
    writeFileSync(policyFile, JSON.stringify(BENCH_POLICY, null, 2));
    const redis = await startBenchRedis();
    const sim = await startSimulator({
      latencyMs: SIM_LATENCY_MS,
      limit: { ...limit, retryAfter: 'seconds' },
    });
    const runs: DevicesRun[] = [];
    const baselines: { efficiency: number; writes: number; sendingMs: number }[] = [];
    const reset = async () => {
      await redis.client.flushall();
      sim.control({
        latencyMs: SIM_LATENCY_MS,
        limit: { ...limit, retryAfter: 'seconds' },
        readLimit: { ...readLimit, retryAfter: 'seconds' },
      });
    };
    try {
      await repeat(env, S, async (rep, flip) => {
        // The baseline in the same repetition (order alternating): as many writes, each a leaver's one
        // removeAllDevicesFromManagement, same fleet and evidence on. On a noisy machine the ratio of the
        // two says what the policy costs the pace; the efficiency alone also says how busy the machine was.
        const baseline = async () => {
          await reset();
          const b = await drain({
            users: withDevices(n * WRITES_PER_LEAVER),
            env: { EVIDENCE: 'on', GRAPH_READ_RATE_LIMIT: readRate, VERIFY_AFTER: '1h' },
            kind: 'offboard',
            processes: PROCESSES,
            concurrency: CONCURRENCY,
            n: n * WRITES_PER_LEAVER,
            sim,
            redis,
            rateLimit: `${limit.limit}/${limit.windowMs}ms`,
            timeoutMs: ((n * WRITES_PER_LEAVER * limit.windowMs) / limit.limit) * 6 + 120_000,
          });
          const slot = limit.windowMs / limit.limit;
          const accepted = b.graph.byStatus['204'] ?? 0;
          const first = b.graph.firstCallAt ?? b.releasedAt;
          const sendingMs = Math.max(1, (b.graph.lastCallAt ?? first) - first + slot);
          baselines.push({ efficiency: (accepted * slot) / sendingMs, writes: accepted, sendingMs });
          env.log(
            `    baseline, ${accepted} leavers × one retire: efficiency ${((accepted * slot) / sendingMs).toFixed(3)}`,
          );
        };
        if (flip) await baseline();
        await reset();
        const users = Array.from({ length: n }, (_, i) => `leaver-mixed-b${rep}-${i}@contoso.test`);
        const d = await drain({
          users,
          env: {
            DEVICE_POLICY_FILE: policyFile,
            // The pace is measured, not the guard: thousands of wipes would wait for approval otherwise.
            GUARD_WIPE_THRESHOLD: '1000000',
            EVIDENCE: 'on',
            GRAPH_READ_RATE_LIMIT: readRate,
            // Verification reads come long after the drain: they are not what is measured here.
            VERIFY_AFTER: '1h',
          },
          kind: 'offboard',
          processes: PROCESSES,
          concurrency: CONCURRENCY,
          n,
          sim,
          redis,
          rateLimit: `${limit.limit}/${limit.windowMs}ms`,
          timeoutMs: ((n * WRITES_PER_LEAVER * limit.windowMs) / limit.limit) * 6 + 120_000,
        });
        const accepted = (d.graph.byStatus['204'] ?? 0) + (d.graph.byStatus['404'] ?? 0);
        const slotMs = limit.windowMs / limit.limit;
        const idealMs = accepted * slotMs;
        // The pace itself: from the first write to the last (plus the last one's slot). Before the first
        // write each leaver is inventoried (a read): at a few seconds per run that start-up would hide
        // the pace, so the time to the last outcome is reported beside it.
        const first = d.graph.firstCallAt ?? d.releasedAt;
        const sendingMs = Math.max(1, (d.graph.lastCallAt ?? first) - first + slotMs);
        const r: DevicesRun = {
          leavers: n,
          completed: d.completed,
          writes: accepted,
          idealMs,
          sendingMs,
          actualMs: d.elapsedMs,
          efficiency: idealMs / sendingMs,
          efficiencyToLastOutcome: idealMs / d.elapsedMs,
          calls: d.graph.calls,
          throttledShare: d.graph.calls ? (d.graph.throttled / d.graph.calls) * 100 : 0,
          insideRetryAfterWindow: d.graph.insideRetryAfterWindow,
          byStatus: d.graph.byStatus,
          readsPerLeaver: d.reads.calls / n,
          readThrottled: d.reads.throttled,
        };
        env.log(
          `    ${n} leavers × 3 devices: ${accepted} writes (${(accepted / n).toFixed(2)} per leaver), ` +
            `efficiency ${r.efficiency.toFixed(3)} (to the last outcome ${r.efficiencyToLastOutcome.toFixed(3)}), 429 ${r.throttledShare.toFixed(1)} %, inside Retry-After ` +
            `${r.insideRetryAfterWindow}, completed ${d.completed}/${n}, ${(r.actualMs / 1000).toFixed(1)} s, ` +
            `reads per leaver ${r.readsPerLeaver.toFixed(2)} (read 429s ${r.readThrottled})`,
        );
        runs.push(r);
        if (!flip) await baseline();
      });
    } finally {
      await sim.close();
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    const figures: Figure[] = [
      figure(
        S,
        'write efficiency (writes ÷ limit ÷ sending time)',
        'x',
        summarize(runs.map((r) => r.efficiency)),
        { op: '>=', value: 0.95 },
      ),
      figure(
        S,
        'efficiency to the last outcome (incl. start-up and inventory)',
        'x',
        summarize(runs.map((r) => r.efficiencyToLastOutcome)),
      ),
      figure(S, 'calls answered 429', '%', summarize(runs.map((r) => r.throttledShare)), {
        op: '<=',
        value: 1,
      }),
      figure(
        S,
        'calls inside announced Retry-After windows',
        'calls',
        summarize(runs.map((r) => r.insideRetryAfterWindow)),
        { op: '<=', value: 0 },
      ),
      figure(S, 'writes per leaver', 'calls', summarize(runs.map((r) => r.writes / r.leavers)), {
        op: '>=',
        value: WRITES_PER_LEAVER,
      }),
      figure(S, 'leavers not completed', 'jobs', summarize(runs.map((r) => r.leavers - r.completed)), {
        op: '<=',
        value: 0,
      }),
      figure(S, 'reads per leaver', 'reads', summarize(runs.map((r) => r.readsPerLeaver))),
      figure(
        S,
        'baseline (one retire per leaver, as many writes): write efficiency',
        'x',
        summarize(baselines.map((b) => b.efficiency)),
      ),
      figure(
        S,
        'write efficiency ÷ baseline in the same repetition',
        'x',
        summarize(runs.map((r, i) => r.efficiency / (baselines[i]?.efficiency ?? Number.NaN))),
      ),
    ];
    return {
      figures,
      details: {
        leavers: n,
        writesPerLeaver: WRITES_PER_LEAVER,
        limit,
        readLimit,
        readRate,
        processes: PROCESSES,
        concurrency: CONCURRENCY,
        simLatencyMs: SIM_LATENCY_MS,
        policy: BENCH_POLICY,
        runs,
        baselines,
      },
    };
  },
};

/** N fresh leavers (a new run id each call) with at least one device each: every one gets its POST. */
function withDevices(n: number): string[] {
  const out: string[] = [];
  for (const u of leavers(n * 3)) {
    if (out.length >= n) break;
    if (defaultDevices(u).length > 0) out.push(u);
  }
  if (out.length < n) throw new Error(`only ${out.length} of ${n} baseline leavers have devices`);
  return out;
}
