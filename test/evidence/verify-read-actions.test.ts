// The reads of a device policy's verification (src/evidence/verify-read-actions.ts) against the
// simulator over HTTP: a device read by itself with its action log, a deleted device as `gone` (404), a
// read answered 503 as that read's `failed` (the others still read), a read 429 postponing the whole
// check, and the Autopilot search counting the identities left with the serial.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readActionsForVerification } from '../../src/evidence/verify-read-actions.js';
import { fixedToken, graphCall } from '../../src/graph/call.js';
import { deviceDeleteRequest, deviceRetireRequest } from '../../src/graph/requests.js';
import { fixtureDeviceId } from '../../src/sim/graph/device-actions-fixtures.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { fetchAppToken, startTestSimulator, type TestSimulator } from '../helpers/sim.js';

let sim: TestSimulator;
let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis();
  sim = await startTestSimulator({ retireDelayMs: 0 });
});
afterAll(async () => {
  await sim?.close();
  await redis?.stop();
});

describe('readActionsForVerification', () => {
  it('reads each device, sees a deleted one gone, a 503 as failed, and counts Autopilot identities', async () => {
    const user = 'leaver-mixed-reads@contoso.test';
    const token = await fetchAppToken(sim);
    const graph = { baseUrl: sim.graphBaseUrl, timeoutMs: 5000, tokenProvider: fixedToken(token) };
    const iphone = fixtureDeviceId(user, 'iphone');
    const laptop = fixtureDeviceId(user, 'laptop');
    const android = fixtureDeviceId(user, 'android');
    const serial = sim.devices(user).devices.find((d) => d.id === laptop)?.serialNumber as string;
    expect(serial).toBeTruthy();
    await graphCall(graph, { ...deviceRetireRequest(iphone), body: undefined, subject: user });
    await graphCall(graph, { ...deviceDeleteRequest(laptop), body: undefined, subject: user });
    sim.control({ readScript: { [android]: [503] } });
    const client = new Redis(redis.url);
    try {
      const out = await readActionsForVerification({ redis: client, prefix: redis.prefix, graph }, user, {
        devices: [iphone, laptop, android],
        serials: [serial],
      });
      expect(out.kind).toBe('ok');
      if (out.kind !== 'ok') return;
      const ip = out.devices.get(iphone);
      expect(ip?.kind).toBe('ok');
      if (ip?.kind === 'ok') {
        expect(ip.device.deviceActionResults?.find((r) => r.actionName === 'retire')?.actionState).toBe(
          'done',
        );
      }
      expect(out.devices.get(laptop)).toEqual({ kind: 'gone' });
      expect(out.devices.get(android)).toEqual({ kind: 'failed' });
      expect(out.failedReads).toBe(1);
      // The laptop is deleted from Intune but still registered in Autopilot (its deregistration is apart).
      expect(out.autopilot.get(serial)).toEqual({ kind: 'ok', identities: 1 });
      expect(out.requestIds.length).toBeGreaterThanOrEqual(4);
    } finally {
      client.disconnect();
    }
  });

  it('postpones the whole check on a read 429', async () => {
    const user = 'leaver-mixed-later@contoso.test';
    const token = await fetchAppToken(sim);
    const graph = { baseUrl: sim.graphBaseUrl, timeoutMs: 5000, tokenProvider: fixedToken(token) };
    const iphone = fixtureDeviceId(user, 'iphone');
    sim.control({ readScript: { [iphone]: [{ status: 429, retryAfter: '2' }] } });
    const client = new Redis(redis.url);
    try {
      const out = await readActionsForVerification({ redis: client, prefix: redis.prefix, graph }, user, {
        devices: [iphone],
        serials: [],
      });
      expect(out).toEqual({ kind: 'later', delayMs: 2000, reason: 'throttled' });
    } finally {
      client.disconnect();
    }
  });
});
