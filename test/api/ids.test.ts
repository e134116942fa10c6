// Ids reach Redis keys: one that names a BullMQ structure (`events` is a stream, `wait` a list) or
// carries a `:` used to read the wrong key and answer 500 WRONGTYPE. Every id route now refuses them
// with 400 before Redis is asked, and a well-formed id that does not exist is still a 404.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelJob, JobNotFoundError } from '../../src/intake/cancel.js';
import { redriveDeadLetter } from '../../src/intake/redrive.js';
import { RESERVED_IDS } from '../../src/queue/ids.js';
import { DeadLetterNotFoundError } from '../../src/records/dead-letter.js';
import { bearer, KEYS, type TestApi, testApp } from './helpers.js';

let t: TestApi;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => t.close());

const ROUTES: { method: 'GET' | 'POST' | 'DELETE'; url: (id: string) => string; key: string }[] = [
  { method: 'GET', url: (id) => `/v1/offboardings/${id}`, key: KEYS.viewer },
  { method: 'DELETE', url: (id) => `/v1/offboardings/${id}`, key: KEYS.operator },
  { method: 'GET', url: (id) => `/v1/dead-letters/${id}`, key: KEYS.viewer },
  { method: 'POST', url: (id) => `/v1/dead-letters/${id}/redrive`, key: KEYS.operator },
  { method: 'DELETE', url: (id) => `/v1/dead-letters/${id}`, key: KEYS.operator },
  { method: 'GET', url: (id) => `/v1/batches/${id}`, key: KEYS.viewer },
  { method: 'GET', url: (id) => `/v1/batches/${id}/items`, key: KEYS.viewer },
  { method: 'POST', url: (id) => `/v1/batches/${id}/approve`, key: KEYS.operator },
];

describe('id validation at the routes', () => {
  it('refuses BullMQ key names and ids with a colon with 400, on every id route', async () => {
    // Make sure the structures exist, so a lookup would really hit the wrong type.
    await t.app.inject({
      method: 'POST',
      url: '/v1/offboardings',
      headers: bearer(KEYS.producer),
      payload: { user: 'ids@contoso.com' },
    });
    const bad = [...RESERVED_IDS, 'a:b', 'events:x', 'de:ids@contoso.com', '.hidden', 'a.b', 'x%2F..'];
    for (const route of ROUTES) {
      for (const id of bad) {
        const res = await t.app.inject({
          method: route.method,
          url: route.url(encodeURIComponent(id)),
          headers: bearer(route.key),
        });
        expect(res.statusCode, `${route.method} ${route.url(id)}`).toBe(400);
        expect(res.json().error.code).toBe('invalid_request');
      }
    }
  });

  it('still answers 404 for a well-formed id that does not exist', async () => {
    for (const route of ROUTES) {
      const res = await t.app.inject({
        method: route.method,
        url: route.url('no-such-id'),
        headers: bearer(route.key),
      });
      expect(res.statusCode, `${route.method} ${route.url('no-such-id')}`).toBe(404);
    }
  });

  it('refuses the same ids in the library the CLI uses', async () => {
    await expect(cancelJob(t.ctx, 'events', 'ops')).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(redriveDeadLetter(t.ctx, 'wait', 'ops')).rejects.toBeInstanceOf(DeadLetterNotFoundError);
  });
});
