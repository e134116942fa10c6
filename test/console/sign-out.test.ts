// Issue 19 item 14: console sign-out ends the session everywhere. A copy of the cookie taken before
// sign-out (another tab, a stolen copy, another API replica) is refused afterwards; the signed-out
// id is kept in Redis only until the session would have expired.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { COOKIE_NAME } from '../../src/api/console/session.js';
import { apiConfig, KEYS, memoryLogger, type TestApi, testApp } from '../api/helpers.js';
import { ConsoleClient } from './helpers.js';

const SESSION_KEY = Buffer.alloc(32, 7).toString('base64');
let t: TestApi;

beforeAll(async () => {
  t = await testApp({ CONSOLE_SESSION_KEY: SESSION_KEY, CONSOLE_SESSION_TTL: '2h' });
});
afterAll(async () => {
  await t.close();
});

describe('sign-out', () => {
  it('refuses a copy of the cookie taken before sign-out, on this replica and on another one', async () => {
    const c = new ConsoleClient(t.app);
    expect((await c.signIn(KEYS.operator)).statusCode).toBe(303);
    const copy = c.cookie;
    expect(copy).toContain(`${COOKIE_NAME}=`);
    expect((await c.get('/console')).statusCode).toBe(200);
    // A second replica sharing CONSOLE_SESSION_KEY and Redis accepts the copy before sign-out.
    const other = await buildApp(
      apiConfig(t.redis, { CONSOLE_SESSION_KEY: SESSION_KEY, CONSOLE_SESSION_TTL: '2h' }),
      { logger: memoryLogger('warn').logger },
    );
    try {
      expect((await other.inject({ url: '/console', headers: { cookie: copy } })).statusCode).toBe(200);

      expect((await c.act('/console/sign-out')).statusCode).toBe(303);

      // The copy: pages send it to sign in, actions are refused, on both replicas; nothing runs.
      for (const app of [t.app, other]) {
        const page = await app.inject({ url: '/console', headers: { cookie: copy } });
        expect(page.statusCode).toBe(303);
        expect(page.headers.location).toBe('/console/sign-in');
        const pause = await app.inject({
          method: 'POST',
          url: '/console/queue/pause',
          headers: { cookie: copy, 'content-type': 'application/x-www-form-urlencoded' },
          payload: 'reason=x',
        });
        expect(pause.statusCode).toBe(401);
      }
      expect(await t.ctx.retire.isPaused()).toBe(false);
    } finally {
      await other.close();
    }
    // Kept in Redis only until the session's own end (CONSOLE_SESSION_TTL 2h), then it expires.
    const keys = await t.ctx.redis.keys(`${t.ctx.prefix}:offboard:console-signed-out:*`);
    expect(keys).toHaveLength(1);
    const ttl = await t.ctx.redis.pttl(keys[0] as string);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2 * 3_600_000);
    expect(keys[0]).not.toContain(copy.split('=')[1]?.slice(0, 20));
  });

  it('a new sign-in after sign-out works, and signing out one session leaves another one alone', async () => {
    const a = new ConsoleClient(t.app);
    const b = new ConsoleClient(t.app);
    await a.signIn(KEYS.viewer);
    await b.signIn(KEYS.viewer);
    await a.act('/console/sign-out');
    expect((await b.get('/console')).statusCode).toBe(200);
    expect((await a.signIn(KEYS.viewer)).statusCode).toBe(303);
    expect((await a.get('/console')).statusCode).toBe(200);
  });
});
