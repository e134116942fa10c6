// Activation Lock bypass codes at rest and their audited read: stored encrypted with EVIDENCE_KEY
// (never in clear in Redis, bound to their key), read back only by an operator through
// GET /v1/offboardings/{id}/secrets or `offboard evidence secrets --job`, each read a `secret-read`
// audit entry naming the actor. Real Redis, the real API (inject) and the real CLI (dist/cli.js).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decryptSecret,
  encryptSecret,
  SecretUnreadableError,
} from '../../src/device-actions/secret-crypto.js';
import { secretKey, storeBypassCode } from '../../src/device-actions/secrets.js';
import { savePlan } from '../../src/device-actions/store.js';
import type { DevicePlan } from '../../src/interfaces.js';
import { readAudit } from '../../src/records/audit.js';
import { bearer, KEY_NAMES, KEYS, type TestApi, testApp } from '../api/helpers.js';

const KEY = randomBytes(32);
const OTHER_KEY = randomBytes(32);
const DAY = 86_400_000;
const CODE = 'A1B2C-3D4E5-F6G7H-8J9K0-LMNPQ-RSTUV';

let t: TestApi;
beforeAll(async () => {
  t = await testApp({ EVIDENCE_KEY: KEY.toString('base64') });
});
afterAll(async () => t.close());

function plan(...ids: string[]): DevicePlan[] {
  return ids.map((deviceId) => ({
    deviceId,
    deviceName: `${deviceId}-name`,
    operatingSystem: 'iOS',
    profile: 'standard',
    rule: 3,
    actions: [{ action: 'wipe', captureActivationLockBypass: true }],
  }));
}

async function seedJob(jobId: string, devices: string[], key = KEY): Promise<void> {
  await savePlan(t.ctx.redis, t.ctx.prefix, jobId, plan(...devices), 400 * DAY);
  await storeBypassCode(t.ctx.redis, t.ctx.prefix, { jobId, deviceId: devices[0] as string }, CODE, key, DAY);
}

describe('secret envelope', () => {
  it('round-trips, and refuses another key or another Redis key', () => {
    const sealed = encryptSecret(CODE, KEY, 'ctx-a');
    expect(sealed).not.toContain(CODE);
    expect(decryptSecret(sealed, KEY, 'ctx-a')).toBe(CODE);
    expect(() => decryptSecret(sealed, OTHER_KEY, 'ctx-a')).toThrow(/different EVIDENCE_KEY/);
    expect(() => decryptSecret(sealed, KEY, 'ctx-b')).toThrow(SecretUnreadableError);
  });
});

describe('GET /v1/offboardings/{id}/secrets', () => {
  it('keeps the code encrypted in Redis and answers it to an operator, audited with the key name', async () => {
    await seedJob('job-sec-1', ['dev-a', 'dev-b']);
    const raw = (await t.ctx.redis.get(secretKey(t.ctx.prefix, 'job-sec-1', 'dev-a'))) as string;
    expect(raw).not.toContain(CODE);
    expect(await t.ctx.redis.pttl(secretKey(t.ctx.prefix, 'job-sec-1', 'dev-a'))).toBeGreaterThan(0);

    const res = await t.app.inject({
      url: '/v1/offboardings/job-sec-1/secrets',
      headers: bearer(KEYS.operator),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json() as {
      jobId: string;
      secrets: { deviceId: string; kind: string; value?: string }[];
    };
    expect(body.jobId).toBe('job-sec-1');
    expect(body.secrets).toEqual([
      expect.objectContaining({ deviceId: 'dev-a', kind: 'activationLockBypassCode', value: CODE }),
    ]);

    const audit = (await readAudit(t.ctx)).filter((e) => e.type === 'secret-read');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: KEY_NAMES.operator, jobId: 'job-sec-1' });
    expect(audit[0]?.details).toMatchObject({ via: 'api', devices: ['dev-a'] });
    expect(JSON.stringify(audit)).not.toContain(CODE);
  });

  it('refuses producers, viewers and callers without a key (problem+json), and audits nothing for them', async () => {
    await seedJob('job-sec-2', ['dev-c']);
    const before = (await readAudit(t.ctx)).filter((e) => e.type === 'secret-read').length;
    for (const [headers, status] of [
      [bearer(KEYS.producer), 403],
      [bearer(KEYS.viewer), 403],
      [{}, 401],
    ] as const) {
      const res = await t.app.inject({ url: '/v1/offboardings/job-sec-2/secrets', headers });
      expect(res.statusCode).toBe(status);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body).not.toContain(CODE);
    }
    const after = (await readAudit(t.ctx)).filter((e) => e.type === 'secret-read').length;
    expect(after).toBe(before);
  });

  it('404 for a job without a device plan; a code under another key reads as unreadable', async () => {
    const missing = await t.app.inject({
      url: '/v1/offboardings/no-plan-job/secrets',
      headers: bearer(KEYS.operator),
    });
    expect(missing.statusCode).toBe(404);
    await seedJob('job-sec-3', ['dev-d'], OTHER_KEY);
    const res = await t.app.inject({
      url: '/v1/offboardings/job-sec-3/secrets',
      headers: bearer(KEYS.operator),
    });
    expect(res.statusCode).toBe(200);
    const [s] = (res.json() as { secrets: { value?: string; error?: string }[] }).secrets;
    expect(s?.value).toBeUndefined();
    expect(s?.error).toMatch(/different EVIDENCE_KEY/);
  });
});

describe('offboard evidence secrets --job', () => {
  const run = (args: string[], env: Record<string, string>) =>
    spawnSync('node', ['dist/cli.js', ...args], {
      encoding: 'utf8',
      env: { ...process.env, REDIS_URL: t.redis.url, QUEUE_PREFIX: t.redis.prefix, ...env },
      timeout: 30_000,
    });

  it('prints the code with EVIDENCE_KEY and audits the reader; without the key it fails and reads nothing', async () => {
    await seedJob('job-sec-4', ['dev-e']);
    const without = run(['evidence', 'secrets', '--job', 'job-sec-4', '--as', 'carol'], {});
    expect(without.status).toBe(1);
    expect(without.stdout).not.toContain(CODE);
    expect(without.stderr).toMatch(/EVIDENCE_KEY/);

    const ok = run(['evidence', 'secrets', '--job', 'job-sec-4', '--as', 'carol', '--json'], {
      EVIDENCE_KEY: KEY.toString('base64'),
    });
    expect(ok.status, ok.stderr).toBe(0);
    const out = JSON.parse(ok.stdout) as { secrets: { deviceId: string; value: string }[] };
    expect(out.secrets).toEqual([expect.objectContaining({ deviceId: 'dev-e', value: CODE })]);
    const audit = (await readAudit(t.ctx)).filter((e) => e.type === 'secret-read' && e.jobId === 'job-sec-4');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'carol', details: expect.objectContaining({ via: 'cli' }) });
  });
});
