// Issue 19 item 11: a producer must not learn who else has a pending offboarding. Against a running
// API on loopback HTTP and a real Redis, a second HR system (producer `payroll`) submits a user that
// `hr-system` already has pending: single requests, batches and the console's Check all answer as
// for an ordinary request of its own (no foreign job id, no foreign moment); the plan is audited.
// Viewers still see the real job, and the job itself is the one pending job.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { configLine } from '../../src/api/auth/keys.js';
import type { RunningApi } from '../../src/api/server.js';
import { readAudit } from '../../src/records/audit.js';
import { ConsoleClient } from '../console/helpers.js';
import {
  apiConfig,
  apiKeysEnv,
  bearer,
  KEY_NAMES,
  KEYS,
  liveApi,
  memoryLogger,
  type TestApi,
  testApp,
} from './helpers.js';

const PAYROLL = 'obk_test-payroll-key-0123456789abcdefghijklmnopq';
const env = { API_KEYS: `${apiKeysEnv()},${configLine('payroll', 'producer', PAYROLL)}` };
let t: TestApi;
let live: RunningApi;

beforeAll(async () => {
  t = await testApp(env);
  live = await liveApi(t.redis, env);
});
afterAll(async () => {
  await live.close();
  await t.close();
});

async function post(path: string, key: string, body: unknown) {
  const res = await fetch(`${live.url}${path}`, {
    method: 'POST',
    headers: { ...bearer(key), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text(), location: res.headers.get('location') };
}

const HOUR = 3_600_000;
const at = (ms: number) => new Date(Math.floor((Date.now() + ms) / 1000) * 1000).toISOString();

describe('duplicate answers for a producer', () => {
  it('a user pending through another producer reads like an ordinary accepted request', async () => {
    const theirs = at(48 * HOUR);
    const first = await post('/v1/offboardings', KEYS.producer, {
      user: 'alice@contoso.com',
      effectiveAt: theirs,
    });
    expect(first.status).toBe(202);
    const realId = JSON.parse(first.text).id as string;

    // payroll asks for the same user (later than hr-system): an ordinary 202 with its own id and its own moment.
    const mine = at(72 * HOUR);
    const probe = await post('/v1/offboardings', PAYROLL, { user: 'alice@contoso.com', effectiveAt: mine });
    expect(probe.status).toBe(202);
    const body = JSON.parse(probe.text);
    expect(body).toMatchObject({ user: 'alice@contoso.com', state: 'delayed', duplicate: false });
    expect(Date.parse(body.effectiveAt)).toBe(Date.parse(mine));
    expect(body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(probe.text).not.toContain(realId);
    expect(probe.text).not.toContain(theirs.slice(0, 16));
    expect(probe.location).not.toContain(realId);
    // Its repeat reads like a repeat of its own request: duplicate, same id, its own moment.
    const again = await post('/v1/offboardings', PAYROLL, { user: 'alice@contoso.com', effectiveAt: mine });
    expect(again.status).toBe(200);
    expect(JSON.parse(again.text)).toMatchObject({ id: body.id, duplicate: true });
    expect(again.text).not.toContain(realId);

    // The requester itself, and a viewer, still see the real job; there is one pending job.
    const own = await post('/v1/offboardings', KEYS.producer, {
      user: 'alice@contoso.com',
      effectiveAt: theirs,
    });
    expect(own.status).toBe(200);
    expect(JSON.parse(own.text)).toMatchObject({ id: realId, duplicate: true });
    const viewer = await fetch(`${live.url}/v1/offboardings?user=alice@contoso.com`, {
      headers: bearer(KEYS.viewer),
    });
    const items = ((await viewer.json()) as { items: { id: string }[] }).items;
    expect(items.map((i) => i.id)).toEqual([realId]);
    expect(await t.ctx.retire.getJobCountByTypes('delayed', 'waiting')).toBe(1);
    // The audit records payroll's request (operators see who asked).
    const audit = await readAudit(t.ctx, { count: 100 });
    expect(audit.some((e) => e.type === 'duplicate' && e.actor === 'payroll' && e.jobId === realId)).toBe(
      true,
    );
  });

  it('batch items: the foreign user is accepted with a stand-in id, repeats name the same stand-in', async () => {
    const first = await post('/v1/offboardings', KEYS.producer, {
      user: 'bob@contoso.com',
      effectiveAt: at(30 * HOUR),
    });
    const realId = JSON.parse(first.text).id as string;
    const res = await post('/v1/offboardings/batch', PAYROLL, {
      items: [{ user: 'bob@contoso.com' }, { user: 'carol@contoso.com' }, { user: 'BOB@contoso.com' }],
    });
    expect(res.status).toBe(202);
    expect(res.text).not.toContain(realId);
    const out = JSON.parse(res.text) as {
      summary: Record<string, number>;
      results: { status: string; id: string; index: number }[];
    };
    expect(out.summary).toEqual({ accepted: 2, duplicate: 1, invalid: 0, held: 0 });
    expect(out.results[0]).toMatchObject({ status: 'accepted', duplicate: false, state: 'waiting' });
    expect(out.results[2]).toMatchObject({ status: 'duplicate', id: out.results[0]?.id });
  });
});

describe('console Check for a producer', () => {
  it('counts a user pending through someone else as new, and the plan is audited', async () => {
    await post('/v1/offboardings', KEYS.producer, { user: 'dave@contoso.com' });
    const app = await buildApp(apiConfig(t.redis, env), { logger: memoryLogger('warn').logger });
    try {
      const c = new ConsoleClient(app);
      expect((await c.signIn(PAYROLL)).statusCode).toBe(303);
      const csv = 'user\ndave@contoso.com\nerin@contoso.com\n';
      const page = await c.post('/console/submit', {
        _csrf: await c.csrf('/console/submit'),
        csv,
        action: 'check',
      });
      expect(page.statusCode).toBe(200);
      expect(page.body).toMatch(/<dt>new<\/dt><dd>2<\/dd>/);
      expect(page.body).toMatch(/<dt>duplicate<\/dt><dd>0<\/dd>/);
      // hr-system's own Check still says duplicate (it is its own job).
      const hr = new ConsoleClient(app);
      await hr.signIn(KEYS.producer);
      const own = await hr.post('/console/submit', {
        _csrf: await hr.csrf('/console/submit'),
        csv,
        action: 'check',
      });
      expect(own.body).toMatch(/<dt>duplicate<\/dt><dd>1<\/dd>/);
      const planned = (await readAudit(t.ctx, { count: 200 })).filter((e) => e.type === 'planned');
      expect(planned.map((e) => e.actor).sort()).toEqual(['payroll', KEY_NAMES.producer].sort());
      expect(planned.find((e) => e.actor === 'payroll')?.details).toMatchObject({
        source: 'import',
        lines: 2,
      });
    } finally {
      await app.close();
    }
  });
});
