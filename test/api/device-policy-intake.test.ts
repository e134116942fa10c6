// `devicePolicy` on the API's intake (issue 21): resolved once at the front door, stored resolved on
// the job, said in the answer; 400 without a policy file or for an unknown profile; 403 when a
// producer key names a profile its API_KEYS entry does not list; a duplicate keeps the first profile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { configLine } from '../../src/api/auth/keys.js';
import { parseApiKeys } from '../../src/config/api-keys.js';
import { pendingKey } from '../../src/intake/pending.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { TEST_POLICY } from '../helpers/device-policy.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { apiConfig, apiKeysEnv, bearer, KEYS, memoryLogger } from './helpers.js';

const DISPOSER = 'obk_test-disposer-key-0123456789abcdefghijklmnopq';
const ANY = 'obk_test-anyprofile-key-0123456789abcdefghijklmno';

interface Setup {
  redis: TestRedis;
  ctx: QueueContext;
  app: Awaited<ReturnType<typeof buildApp>>;
}

async function setup(withPolicy: boolean): Promise<Setup> {
  const redis = await startRedis();
  const config = apiConfig(redis, { API_KEYS: apiKeysEnv() });
  if (withPolicy) {
    config.devicePolicy = TEST_POLICY;
    // Keys naming profiles need the policy at load (the loader refuses them without one): parsed as
    // API_KEYS parses them, added beside the policy set above.
    const issues: string[] = [];
    const scoped = parseApiKeys(
      [
        `${configLine('disposer', 'producer', DISPOSER)}::dispose`,
        `${configLine('any-profile', 'producer', ANY)}::*`,
      ].join(','),
      'API_KEYS',
      issues,
    );
    expect(issues).toEqual([]);
    config.api.keys.push(...scoped);
  }
  const app = await buildApp(config, { logger: memoryLogger('warn').logger });
  await app.ready();
  return { redis, app, ctx: createQueueContext(config) };
}

async function teardown(s: Setup) {
  await s.app.close();
  await closeQueueContext(s.ctx);
  await s.redis.stop();
}

const post = (s: Setup, url: string, payload: unknown, key: string = KEYS.producer) =>
  s.app.inject({ method: 'POST', url, payload: payload as object, headers: bearer(key) });

describe('devicePolicy without DEVICE_POLICY_FILE', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup(false);
  });
  afterAll(async () => teardown(s));

  it('refuses a request naming a profile (400 problem+json) and stores nothing', async () => {
    const res = await post(s, '/v1/offboardings', { user: 'a@contoso.com', devicePolicy: 'standard' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'invalid_request', details: { field: 'devicePolicy' } });
    expect(res.json().detail).toContain('no device policy configured');
    expect(await s.ctx.retire.getJobCounts('waiting')).toEqual({ waiting: 0 });
  });

  it('keeps today’s answer and job data when none is named (no devicePolicy field)', async () => {
    const res = await post(s, '/v1/offboardings', { user: 'b@contoso.com' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).not.toHaveProperty('devicePolicy');
    const job = await s.ctx.retire.getJob(res.json().id);
    expect(job?.data).not.toHaveProperty('devicePolicy');
  });

  it('marks batch items naming a profile invalid, the others go on', async () => {
    const res = await post(s, '/v1/offboardings/batch', {
      items: [{ user: 'c@contoso.com', devicePolicy: 'dispose' }, { user: 'd@contoso.com' }],
    });
    expect(res.statusCode).toBe(202);
    const [c, d] = res.json().results;
    expect(c).toMatchObject({ status: 'invalid' });
    expect(c.error).toContain('no device policy configured');
    expect(d).toMatchObject({ status: 'accepted' });
    expect(d).not.toHaveProperty('devicePolicy');
  });
});

describe('devicePolicy with a policy', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup(true);
  });
  afterAll(async () => teardown(s));

  it('stores the default profile resolved when none is named, and says it', async () => {
    const res = await post(s, '/v1/offboardings', { user: 'e@contoso.com' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ devicePolicy: 'standard', duplicate: false });
    const job = await s.ctx.retire.getJob(res.json().id);
    expect(job?.data.devicePolicy).toBe('standard');
  });

  it('refuses an unknown profile with 400 naming the known ones', async () => {
    const res = await post(s, '/v1/offboardings', { user: 'f@contoso.com', devicePolicy: 'shred' });
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toContain('standard, dispose');
    expect(res.json().details).toEqual({ field: 'devicePolicy' });
    const bad = await post(s, '/v1/offboardings', { user: 'f@contoso.com', devicePolicy: 'a b' });
    expect(bad.statusCode).toBe(400);
  });

  it('lets a producer key name only the default unless API_KEYS lists more (403 otherwise)', async () => {
    const refused = await post(s, '/v1/offboardings', { user: 'g@contoso.com', devicePolicy: 'dispose' });
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json()).toMatchObject({
      code: 'device_policy_forbidden',
      details: { profile: 'dispose', allowed: ['standard'] },
    });
    expect(await s.ctx.retire.getDeduplicationJobId(pendingKey('g@contoso.com', false))).toBeFalsy();
    const dflt = await post(s, '/v1/offboardings', { user: 'g@contoso.com', devicePolicy: 'standard' });
    expect(dflt.statusCode).toBe(202);
    const listed = await post(
      s,
      '/v1/offboardings',
      { user: 'h@contoso.com', devicePolicy: 'dispose' },
      DISPOSER,
    );
    expect(listed.statusCode).toBe(202);
    expect(listed.json().devicePolicy).toBe('dispose');
    expect((await s.ctx.retire.getJob(listed.json().id))?.data.devicePolicy).toBe('dispose');
    const star = await post(s, '/v1/offboardings', { user: 'i@contoso.com', devicePolicy: 'dispose' }, ANY);
    expect(star.statusCode).toBe(202);
  });

  it('keeps the first profile for a duplicate and says both', async () => {
    const first = await post(
      s,
      '/v1/offboardings',
      { user: 'j@contoso.com', devicePolicy: 'dispose' },
      DISPOSER,
    );
    expect(first.statusCode).toBe(202);
    const again = await post(
      s,
      '/v1/offboardings',
      { user: 'j@contoso.com', devicePolicy: 'standard' },
      DISPOSER,
    );
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({
      id: first.json().id,
      duplicate: true,
      devicePolicy: 'dispose',
      requestedDevicePolicy: 'standard',
    });
    expect((await s.ctx.retire.getJob(first.json().id))?.data.devicePolicy).toBe('dispose');
    // Someone else's pending job: the producer still learns which profile applies.
    const other = await post(s, '/v1/offboardings', { user: 'j@contoso.com' });
    expect(other.json()).toMatchObject({ devicePolicy: 'dispose', requestedDevicePolicy: 'standard' });
    expect(other.json().id).not.toBe(first.json().id);
  });

  it('resolves batch items one by one; a forbidden profile refuses the whole batch (403)', async () => {
    const ok = await post(
      s,
      '/v1/offboardings/batch',
      {
        items: [
          { user: 'k@contoso.com', devicePolicy: 'dispose' },
          { user: 'l@contoso.com' },
          { user: 'm@contoso.com', devicePolicy: 'nope' },
        ],
      },
      DISPOSER,
    );
    expect(ok.statusCode).toBe(202);
    const [k, l, m] = ok.json().results;
    expect(k).toMatchObject({ status: 'accepted', devicePolicy: 'dispose' });
    expect(l).toMatchObject({ status: 'accepted', devicePolicy: 'standard' });
    expect(m.status).toBe('invalid');
    expect(m.error).toContain('known: standard, dispose');
    const refused = await post(s, '/v1/offboardings/batch', {
      items: [{ user: 'n@contoso.com' }, { user: 'o@contoso.com', devicePolicy: 'dispose' }],
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('device_policy_forbidden');
    expect(await s.ctx.retire.getDeduplicationJobId(pendingKey('n@contoso.com', false))).toBeFalsy();
  });

  it('documents devicePolicy in the OpenAPI document as a named component', async () => {
    const doc = (await s.app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(doc.components.schemas.DevicePolicyName).toMatchObject({ type: 'string' });
    expect(JSON.stringify(doc.components.schemas.OffboardingRequest)).toContain('DevicePolicyName');
  });
});
