// Issue 19 item 13: a notify job keeps no webhook URL in Redis (it may carry a token in its path). The
// job holds the destination's index and a hash; a running notify worker resolves them against the
// WEBHOOK_URLS it was started with. A URL that left the configuration fails the job (audited) and
// nothing is posted anywhere; a reordered list still reaches the same URL, never the new index.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitOutcome } from '../../src/notify/emit.js';
import { notifyCounts } from '../../src/notify/queue.js';
import { NOTIFY_QUEUE } from '../../src/queue/names.js';
import { readAudit } from '../../src/records/audit.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startTestSimulator, type TestSimulator } from '../helpers/sim.js';
import {
  closeQueueContext,
  openContext,
  startTestWorker,
  uniquePrefix,
  waitFor,
  workerConfig,
} from '../helpers/worker.js';
import { type Receiver, startReceiver } from './receiver.js';

const SECRET = 'test-webhook-secret-0123456789abcdef';
const PATH_TOKEN = 'tok-9f2c41d7e0b8';

let redis: TestRedis;
let sim: TestSimulator;
let secretHook: Receiver;
let other: Receiver;
beforeAll(async () => {
  [redis, sim] = await Promise.all([startRedis(), startTestSimulator()]);
  secretHook = await startReceiver(SECRET, `/hooks/${PATH_TOKEN}`);
  other = await startReceiver(SECRET, '/other');
});
afterAll(async () => {
  await Promise.all([secretHook?.close(), other?.close()]);
  await sim?.close();
  await redis?.stop();
});

function event(jobId: string) {
  return {
    type: 'offboarding.retired' as const,
    occurredAt: new Date().toISOString(),
    data: { jobId, user: `${jobId}@contoso.com`, outcome: 'retired', correlationId: 'c', requestedBy: 'r' },
  };
}

describe('notify jobs and webhook URLs', () => {
  it('stores no URL in Redis; a URL gone from WEBHOOK_URLS fails audited; a reordered list still reaches it', async () => {
    const prefix = uniquePrefix(redis.prefix);
    const emitConfig = workerConfig(redis, sim, prefix, {
      WEBHOOK_URLS: secretHook.url,
      WEBHOOK_SECRET: SECRET,
      EVIDENCE: 'off',
    });
    const ctx = openContext(emitConfig);
    try {
      await emitOutcome(ctx, event('stored-1'));
      // Every key of the notify queue, every field: no URL, no host, no path token.
      const keys = await ctx.redis.keys(`${prefix}:${NOTIFY_QUEUE}:*`);
      let dump = '';
      for (const key of keys) {
        const type = await ctx.redis.type(key);
        if (type === 'hash') dump += JSON.stringify(await ctx.redis.hgetall(key));
        else if (type === 'list') dump += JSON.stringify(await ctx.redis.lrange(key, 0, -1));
        else if (type === 'zset') dump += JSON.stringify(await ctx.redis.zrange(key, '0', '-1'));
        else if (type === 'string') dump += String(await ctx.redis.get(key));
      }
      expect(dump).toContain('stored-1');
      expect(dump).toContain('urlHash');
      const { host } = new URL(secretHook.url);
      for (const leak of [secretHook.url, PATH_TOKEN, host, 'hooks/']) expect(dump).not.toContain(leak);

      // The destination left the configuration (another URL now sits at index 0): nothing is posted.
      const moved = await startTestWorker(
        workerConfig(redis, sim, prefix, {
          WEBHOOK_URLS: other.url,
          WEBHOOK_SECRET: SECRET,
          EVIDENCE: 'off',
        }),
      );
      try {
        await waitFor(async () => (await notifyCounts(ctx)).failed === 1, { what: 'the job refused' });
      } finally {
        await moved.close();
      }
      expect(other.deliveries).toHaveLength(0);
      expect(secretHook.deliveries).toHaveLength(0);
      const failed = (await readAudit(ctx, { count: 100 })).filter((a) => a.type === 'notify-failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]?.details).toMatchObject({ kind: 'webhook', destination: 0, code: 'not_configured' });
      expect(failed[0]?.jobId).toBe('stored-1');

      // Reordered: the URL is now at index 1; the job made for index 0 still goes to it, not to index 0.
      await emitOutcome(ctx, event('stored-2'));
      const reordered = await startTestWorker(
        workerConfig(redis, sim, prefix, {
          WEBHOOK_URLS: `${other.url},${secretHook.url}`,
          WEBHOOK_SECRET: SECRET,
          EVIDENCE: 'off',
        }),
      );
      try {
        await waitFor(() => secretHook.accepted().size === 1, { what: 'delivery to the moved URL' });
      } finally {
        await reordered.close();
      }
      expect(secretHook.deliveries.map((d) => d.event?.data.jobId)).toEqual(['stored-2']);
      expect(secretHook.deliveries[0]?.verified).toBe(true);
      expect(other.deliveries).toHaveLength(0);
      const notified = (await readAudit(ctx, { count: 100 })).filter((a) => a.type === 'notified');
      expect(notified[0]?.details).toMatchObject({ kind: 'webhook', host });
      expect(JSON.stringify(notified)).not.toContain(PATH_TOKEN);
    } finally {
      await closeQueueContext(ctx);
    }
  });
});
