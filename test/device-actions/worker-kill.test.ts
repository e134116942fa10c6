// Crash safety of a device policy with real worker processes (node dist/cli.js worker) killed with
// SIGKILL: each action is recorded `sending` before its call, so the worker that takes the job over
// never repeats a wipe blindly.
// 1. Killed between the laptop's wipe and its delete (the simulator holds the DELETE's answer): the
//    wipe is not sent again; the delete and the Autopilot deregistration follow.
// 2. Killed while the wipe itself was on the wire (Intune applied it, the answer never came back):
//    the next worker reads the device, finds the wipe in deviceActionResults, and does not send it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDeviceActions } from '../../src/device-actions/store.js';
import { fixtureDeviceId } from '../../src/sim/graph/device-actions-fixtures.js';
import type { CallLogEntry } from '../../src/sim/types.js';
import {
  enqueueUsers,
  spawnTestWorker,
  uniquePrefix,
  waitFor,
  waitForOutcomes,
  workerEnv,
} from '../helpers/worker.js';
import { useWorkerSuite } from '../helpers/worker-suite.js';

const suite = useWorkerSuite();

const dir = mkdtempSync(join(tmpdir(), 'offboard-devact-kill-'));
const POLICY = join(dir, 'dispose.yaml');
writeFileSync(
  POLICY,
  `default: dispose
profiles:
  dispose:
    rules:
      - match: { ownerType: company, os: Windows }
        actions: [wipe, delete, autopilot-deregister]
      - match: { ownerType: company, os: Android }
        actions: [wipe]
      - match: {}
        actions: [retire]
`,
);

async function scenario(
  user: string,
  script: Record<string, unknown[]>,
  killWhen: (c: CallLogEntry[]) => boolean,
) {
  const prefix = uniquePrefix(suite.redis.prefix);
  const env = workerEnv(suite.redis, suite.sim, prefix, {
    DEVICE_POLICY_FILE: POLICY,
    EVIDENCE: 'on',
    GRAPH_READ_RATE_LIMIT: '1000/1s',
    WORKER_CONCURRENCY: '2',
    // A killed worker's job is taken over within about lock + stalled interval.
    WORKER_LOCK_DURATION: '2s',
    WORKER_STALLED_INTERVAL: '1s',
  });
  const config = suite.config({ QUEUE_PREFIX: prefix, DEVICE_POLICY_FILE: POLICY });
  const ctx = suite.open(config);
  suite.sim.control({ script: script as never });
  const a = spawnTestWorker(`devact-a-${user.slice(0, 20)}`, env);
  suite.defer(() => (a.running() ? a.kill('SIGKILL') : undefined));
  await a.waitForOutput(/worker started/);
  const [jobId] = await enqueueUsers(ctx, [user]);
  await waitFor(() => killWhen(suite.sim.stats().calls), { timeoutMs: 30_000, what: 'the call to kill in' });
  const killed = await a.kill('SIGKILL');
  expect(killed.signal).toBe('SIGKILL');
  // What the dead worker left: the action on the wire is `sending`.
  const left = await readDeviceActions(ctx.redis, ctx.prefix, jobId as string);
  const b = spawnTestWorker(`devact-b-${user.slice(0, 20)}`, env);
  suite.defer(() => (b.running() ? b.stop(10_000) : undefined));
  const [out] = await waitForOutcomes(ctx, [jobId as string], 60_000);
  return { out, left, calls: suite.sim.stats().calls };
}

const tail = (c: CallLogEntry) =>
  `${c.method} ${c.path.replace(/^\/v1\.0\/deviceManagement\//, '').replace(/\?.*$/, '')}`;

describe('device policy: a worker killed mid-leaver', () => {
  it('between the wipe and the delete: the wipe is not sent twice; delete and deregistration follow', async () => {
    const user = 'leaver-mixed-kill1@contoso.test';
    const laptop = fixtureDeviceId(user, 'laptop');
    const { out, left, calls } = await scenario(
      user,
      // The wipe is answered at once; the delete's answer is held long enough to kill the worker.
      { [laptop]: [204, { status: 204, delayMs: 15_000 }] },
      (c) => c.some((e) => e.method === 'DELETE' && e.path.endsWith(laptop)),
    );
    expect(left.find((r) => r.action === 'wipe')?.state).toBe('done');
    expect(left.find((r) => r.action === 'delete')?.state).toBe('sending');

    const laptopWrites = calls.filter((c) => c.write && c.path.includes(laptop)).map(tail);
    expect(laptopWrites.filter((c) => c.endsWith('/wipe'))).toHaveLength(1);
    // The delete went again (a repeat is harmless: 404 would count as done), then the deregistration.
    expect(laptopWrites.filter((c) => c.startsWith('DELETE managedDevices/'))).toHaveLength(2);
    const order = calls.filter((c) => c.write).map(tail);
    const lastDelete = order.lastIndexOf(`DELETE managedDevices/${laptop}`);
    const autopilot = order.findIndex((c) => c.startsWith('DELETE windowsAutopilotDeviceIdentities/'));
    expect(autopilot).toBeGreaterThan(lastDelete);
    expect(out?.record).toMatchObject({ outcome: 'completed', devicePolicy: 'dispose' });
    expect(
      out?.record?.deviceActions?.filter((r) => r.deviceId === laptop).map((r) => [r.action, r.state]),
    ).toEqual([
      ['wipe', 'done'],
      ['delete', 'done'],
      ['autopilot-deregister', 'done'],
    ]);
  });

  it('during the wipe itself: the next worker finds it in deviceActionResults and does not send it again', async () => {
    const user = 'leaver-mixed-kill2@contoso.test';
    const laptop = fixtureDeviceId(user, 'laptop');
    const { out, left, calls } = await scenario(
      user,
      // Intune takes the wipe after 1 s; the worker is killed before the answer reaches it.
      { [laptop]: [{ status: 204, delayMs: 1_000 }] },
      (c) => c.some((e) => e.method === 'POST' && e.path.endsWith(`${laptop}/wipe`)),
    );
    expect(left.find((r) => r.action === 'wipe')?.state).toBe('sending');
    const laptopCalls = calls.filter((c) => c.path.includes(laptop)).map(tail);
    expect(laptopCalls.filter((c) => c.endsWith('/wipe'))).toHaveLength(1);
    // The look after the restart: one read of the device with its action results.
    const look = calls.find((c) => c.method === 'GET' && c.path.includes(laptop));
    expect(look?.path).toMatch(/deviceActionResults/);
    const wipe = out?.record?.deviceActions?.find((r) => r.deviceId === laptop && r.action === 'wipe');
    expect(wipe).toMatchObject({ state: 'done' });
    expect(wipe?.message).toMatch(/not sent again/);
    expect(out?.record?.outcome).toBe('completed');
  });
});
