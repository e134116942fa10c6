// `offboard preflight` as an operator runs it: the built CLI as a child process against the Graph +
// Entra simulator and a real Redis. It passes on a good setup, names the permission the simulator
// denies, needs the lifecycle permission once an Entra sweep exists, and sends no write anywhere.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openCircuit, resumeQueue } from '../../src/control/queue-control.js';
import type { PreflightReport } from '../../src/preflight/types.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { addSchedule, removeSchedule } from '../../src/schedule/schedules.js';
import { PERMISSIONS } from '../../src/sim/tokens.js';
import type { SimStats } from '../../src/sim/types.js';
import { json, runCli } from '../cli/run-cli.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { type Simulator, startTestSimulator } from '../helpers/sim.js';

let sim: Simulator;
let redis: TestRedis;
let volatile: TestRedis;
let ctx: QueueContext;

function env(r: TestRedis = redis, extra: Record<string, string> = {}): Record<string, string> {
  return { ...sim.env(), REDIS_URL: r.url, QUEUE_PREFIX: r.prefix, ...extra };
}

async function preflight(args: string[] = [], extra: Record<string, string> = {}, r = redis) {
  const run = await runCli(['preflight', ...args], env(r, extra));
  return run;
}

function check(report: PreflightReport, id: string) {
  const c = report.checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id} in ${JSON.stringify(report.checks)}`);
  return c;
}

beforeAll(async () => {
  // Persistence on, like production; the second Redis has none (the test helper's default).
  [sim, redis, volatile] = await Promise.all([
    startTestSimulator(),
    startRedis({ appendonly: true }),
    startRedis({ extraArgs: [] }),
  ]);
  ctx = createQueueContext(testConfig({ REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix }));
});

afterAll(async () => {
  if (ctx) await closeQueueContext(ctx);
  await Promise.all([sim?.close(), redis?.stop(), volatile?.stop()]);
});

beforeEach(() => {
  sim.control({
    permissions: { grant: Object.values(PERMISSIONS) },
    token: { consentMissing: false },
  });
  sim.reset();
});

describe('offboard preflight against the simulator', () => {
  it('passes on a good setup: one line per check, exit 0', async () => {
    const run = await preflight(['--user', 'alice@contoso.com']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    for (const id of [
      'token',
      'permissions',
      'read.inventory',
      'redis.eviction',
      'redis.persistence',
      'queues.paused',
      'circuit',
    ]) {
      expect(lines.some((l) => l.startsWith(`✔ ${id}`))).toBe(true);
    }
    // No Entra sweep: its read is not needed and not made.
    expect(lines.some((l) => l.startsWith('– read.entra-sweep'))).toBe(true);
    expect(lines.at(-1)).toMatch(/^ready/);
    expect(run.stdout).not.toContain(sim.clientSecret);

    const out = json<PreflightReport>(await preflight(['--user', 'alice@contoso.com', '--json']));
    expect(out.ok).toBe(true);
    expect(out.mode).toBe('app');
    expect(out.required).toEqual([PERMISSIONS.retire, PERMISSIONS.readDevices]);
    expect(check(out, 'read.inventory').detail).toMatch(/HTTP 200/);
  });

  it('reads one directory user for the inventory when no --user is given, and says so when there is none', async () => {
    sim.control({ users: { clear: true } });
    const none = await preflight(['--json']);
    expect(none.code).toBe(1);
    const report = json<PreflightReport>(none);
    expect(check(report, 'read.inventory')).toMatchObject({ status: 'fail' });
    expect(check(report, 'read.inventory').fix).toMatch(/--user/);

    sim.control({ users: { upsert: [{ userPrincipalName: 'test.leaver@offboard-sim.onmicrosoft.com' }] } });
    const one = json<PreflightReport>(await preflight(['--json']));
    expect(one.ok).toBe(true);
    expect(check(one, 'read.inventory').detail).toMatch(/managedDevices/);
  });

  it('fails naming DeviceManagementManagedDevices.Read.All when the simulator denies device reads', async () => {
    sim.control({ permissions: { deny: [PERMISSIONS.readDevices] } });
    const run = await preflight(['--user', 'alice@contoso.com']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/✘ permissions .*lack DeviceManagementManagedDevices\.Read\.All/);
    expect(run.stdout).toMatch(
      /fix: add the Microsoft Graph application permission\(s\) DeviceManagementManagedDevices\.Read\.All/,
    );
    expect(run.stdout).toMatch(/✘ read\.inventory .*HTTP 403/);
    expect(run.stdout.trim().split('\n').at(-1)).toMatch(/^NOT ready: 2 check\(s\) failed/);

    // With EVIDENCE=off the product reads no device: the permission is not needed, the read not made.
    const off = json<PreflightReport>(await preflight(['--json'], { EVIDENCE: 'off' }));
    expect(off.ok).toBe(true);
    expect(off.required).toEqual([PERMISSIONS.retire]);
    expect(check(off, 'read.inventory').status).toBe('skip');
  });

  it('names the retire permission when it is missing, and the missing consent', async () => {
    sim.control({ permissions: { deny: [PERMISSIONS.retire] } });
    const denied = json<PreflightReport>(await preflight(['--user', 'alice@contoso.com', '--json']));
    expect(denied.ok).toBe(false);
    expect(check(denied, 'permissions').detail).toContain(`lack ${PERMISSIONS.retire}`);

    sim.control({ permissions: { grant: [PERMISSIONS.retire] }, token: { consentMissing: true } });
    const noConsent = json<PreflightReport>(await preflight(['--user', 'alice@contoso.com', '--json']));
    expect(check(noConsent, 'token').status).toBe('pass');
    expect(check(noConsent, 'permissions').detail).toMatch(/has: none/);
  });

  it('with an Entra sweep schedule, needs the lifecycle permission and sends the sweep query', async () => {
    await addSchedule(
      ctx,
      {
        name: 'leavers',
        cron: '*/15 * * * *',
        tz: 'UTC',
        source: { type: 'entra', lookaheadMs: 14 * 86_400_000, reconcile: true },
      },
      { actor: 'test' },
    );
    try {
      const good = json<PreflightReport>(await preflight(['--user', 'alice@contoso.com', '--json']));
      expect(good.required).toEqual([
        PERMISSIONS.retire,
        PERMISSIONS.readDevices,
        PERMISSIONS.readUsers,
        PERMISSIONS.readLifecycleInfo,
      ]);
      expect(good.ok).toBe(true);
      expect(check(good, 'read.entra-sweep').detail).toMatch(/\$count=true, \$top=1\): HTTP 200/);

      sim.control({ permissions: { deny: [PERMISSIONS.readLifecycleInfo] } });
      const run = await preflight(['--user', 'alice@contoso.com']);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/✘ permissions .*lack User-LifeCycleInfo\.Read\.All/);
      expect(run.stdout).toMatch(/✘ read\.entra-sweep .*HTTP 403/);
      expect(run.stdout).toMatch(/fix: grant User\.Read\.All and User-LifeCycleInfo\.Read\.All/);
    } finally {
      await removeSchedule(ctx, 'leavers');
    }
  });

  it('sends no write to Graph and changes nothing in the queues', async () => {
    await addSchedule(
      ctx,
      {
        name: 'sweep-nowrite',
        cron: '0 2 * * *',
        tz: 'UTC',
        source: { type: 'entra', lookaheadMs: 86_400_000, reconcile: true },
      },
      { actor: 'test' },
    );
    try {
      const queueKeys = async () =>
        (await ctx.redis.keys(`${redis.prefix}:*`))
          .filter((k) => /^[^:]+:(retire|dead-letter|verify|notify|sweep):/.test(k))
          .sort();
      const before = await queueKeys();
      const auditBefore = await ctx.redis.xlen(`${redis.prefix}:offboard:audit`);
      sim.reset();
      const run = await preflight(['--json']);
      expect(run.code).toBe(0);
      const stats = (await (await fetch(`${sim.controlUrl}/stats?log=0`)).json()) as SimStats;
      const methods = stats.requests.byMethod;
      expect(methods.GET).toBeGreaterThanOrEqual(3); // sweep query, one directory user, inventory
      expect(Object.keys(methods)).toEqual(['GET']);
      expect(methods.POST ?? 0).toBe(0);
      expect(methods.PATCH ?? 0).toBe(0);
      expect(methods.DELETE ?? 0).toBe(0);
      expect(stats.graph.calls).toBe(0); // no retire action
      expect(sim.lifecycle()).toEqual([]);
      expect(await queueKeys()).toEqual(before);
      const counts = await ctx.retire.getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed');
      expect(Object.values(counts).every((n) => n === 0)).toBe(true);
      expect(await ctx.redis.xlen(`${redis.prefix}:offboard:audit`)).toBe(auditBefore);
    } finally {
      await removeSchedule(ctx, 'sweep-nowrite');
    }
  });

  it('fails on an open circuit, a paused queue and a Redis without persistence', async () => {
    await openCircuit(ctx, { code: 'invalid_client', reason: 'secret expired' }, 'test');
    try {
      const run = await preflight(['--user', 'alice@contoso.com']);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/✘ queues\.paused .*paused: retire/);
      expect(run.stdout).toMatch(/✘ circuit .*open: invalid_client: secret expired/);
      // An open circuit does not hold preflight's reads: they are how the fix is checked.
      expect(run.stdout).toMatch(/✔ read\.inventory/);
    } finally {
      await resumeQueue(ctx, 'test');
    }
    const bare = json<PreflightReport>(
      await preflight(['--user', 'alice@contoso.com', '--json'], {}, volatile),
    );
    expect(bare.ok).toBe(false);
    expect(check(bare, 'redis.persistence')).toMatchObject({ status: 'fail' });
    expect(check(bare, 'redis.persistence').fix).toMatch(/appendonly yes/);
    expect(check(bare, 'redis.eviction').status).toBe('pass');
  });

  it("in delegated mode reads the signed-in operator's scp, and names what it lacks", async () => {
    const delegated = {
      AUTH_MODE: 'delegated',
      AZURE_CLIENT_SECRET: '',
      TOKEN_CACHE_KEY: randomBytes(32).toString('base64'),
    };
    const login = await runCli(['login'], env(redis, delegated));
    expect(login.code).toBe(0);
    const good = json<PreflightReport>(await preflight(['--user', 'alice@contoso.com', '--json'], delegated));
    expect(good.mode).toBe('delegated');
    expect(check(good, 'permissions')).toMatchObject({ status: 'pass' });
    expect(check(good, 'permissions').detail).toMatch(/^the token's scp include/);
    expect(good.ok).toBe(true);

    sim.control({ permissions: { deny: [PERMISSIONS.readDevices] } });
    const denied = json<PreflightReport>(
      await preflight(['--user', 'alice@contoso.com', '--json'], delegated),
    );
    expect(check(denied, 'permissions').detail).toContain(`scp lack ${PERMISSIONS.readDevices}`);
    expect(check(denied, 'permissions').fix).toMatch(/offboard login/);
  });

  it('fails the token check with the fix for a wrong secret; exit 2 for usage and configuration errors', async () => {
    const wrong = await preflight(['--user', 'alice@contoso.com'], { AZURE_CLIENT_SECRET: 'not-the-secret' });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/✘ token .*invalid_client/);
    expect(wrong.stdout).toMatch(/fix: the credential was refused/);
    expect(wrong.stdout).not.toContain('not-the-secret');
    expect(wrong.stdout).toMatch(/✘ read\.inventory .*not run: no token/);

    const badUser = await preflight(['--user', 'not a user']);
    expect(badUser.code).toBe(2);
    expect(badUser.stderr).toMatch(/--user/);
    const noClient = await preflight([], { AZURE_CLIENT_ID: '' });
    expect(noClient.code).toBe(2);
    expect(noClient.stderr).toMatch(/AZURE_CLIENT_ID/);
  });
});
