// Redis Cluster: three real masters on loopback, QUEUE_PREFIX={…} and REDIS_URL=redis+cluster://…
// Every producer and operator path (intake, audit, dead letters, pause/resume) and a BullMQ Worker
// must work unchanged, because every key they touch carries the same hash tag.
import { Worker } from 'bullmq';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import { getQueueStatus, openCircuit, pauseQueue, resumeQueue } from '../../src/control/queue-control.js';
import { enqueue, enqueueMany } from '../../src/intake/enqueue.js';
import { discardDeadLetter, redriveDeadLetter } from '../../src/intake/redrive.js';
import type { RetireJobData } from '../../src/interfaces.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { DEAD_LETTER_QUEUE, deadLetterId, keys, RETIRE_QUEUE } from '../../src/queue/names.js';
import { readAudit, userHistory } from '../../src/records/audit.js';
import { getDeadLetter, listDeadLetters, moveToDeadLetter } from '../../src/records/dead-letter.js';
import { clusterCredentials, createRedis } from '../../src/redis/connection.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { testConfig } from '../helpers/config.js';

let cluster: TestCluster;
let config: Config;
let ctx: QueueContext;

beforeAll(async () => {
  cluster = await startCluster({ password: 's3cret/with@odd:chars' });
  config = testConfig({ REDIS_URL: cluster.url, QUEUE_PREFIX: cluster.prefix });
  ctx = createQueueContext(config, { name: 'cluster-test' });
}, 90_000);

afterAll(async () => {
  if (ctx) await closeQueueContext(ctx);
  await cluster?.stop();
});

async function until<T>(
  fn: () => Promise<T | false | undefined | null>,
  what: string,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Redis Cluster connection', () => {
  it('REDIS_URL=redis+cluster://:password@h:p,… gives a Cluster client with the credentials', async () => {
    expect(config.redis.clusterNodes).toHaveLength(3);
    expect(ctx.redis).toBeInstanceOf(Cluster);
    expect(clusterCredentials(cluster.url)).toEqual({ password: 's3cret/with@odd:chars' });
    expect(await ctx.redis.ping()).toBe('PONG');
    const info = String(await ctx.redis.call('CLUSTER', 'INFO'));
    expect(info).toContain('cluster_state:ok');
    expect(info).toContain('cluster_known_nodes:3');
  });

  it('reads user and password from the multi-host URL form that WHATWG URL cannot parse', () => {
    expect(clusterCredentials('rediss+cluster://app%40ops:p%3Aw%2Fd@h1:6379,h2:6379')).toEqual({
      username: 'app@ops',
      password: 'p:w/d',
    });
    expect(clusterCredentials('redis+cluster://h1:6379,h2:6379')).toEqual({});
    expect(clusterCredentials('redis://:pw@host:6379')).toEqual({ password: 'pw' });
  });

  it('REDIS_CLUSTER_NODES with a plain REDIS_URL for the credentials works too', async () => {
    const nodes = cluster.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
    const cfg = testConfig({
      REDIS_URL: `redis://:${encodeURIComponent('s3cret/with@odd:chars')}@127.0.0.1:1`,
      REDIS_CLUSTER_NODES: nodes,
      QUEUE_PREFIX: cluster.prefix,
    });
    const r = createRedis(cfg.redis, { name: 'nodes-env' });
    try {
      expect(r).toBeInstanceOf(Cluster);
      await r.set(`${cluster.prefix}:probe`, 'ok');
      expect(await r.get(`${cluster.prefix}:probe`)).toBe('ok');
    } finally {
      r.disconnect();
    }
  });

  it('every key of ours and of BullMQ hashes to the one slot of the prefix', async () => {
    const p = cluster.prefix;
    const ours = [
      keys.audit(p),
      keys.userHistory(p, 'a@b.c'),
      keys.circuit(p),
      keys.pauseReason(p),
      keys.pacer(p),
      keys.throttleGate(p),
      keys.forbidden(p),
      keys.batches(p),
      keys.batchItems(p, 'x'),
      keys.schedules(p),
      keys.tokenCache(p, 'client'),
      keys.metrics(p),
      keys.workers(p),
    ];
    const bull = [RETIRE_QUEUE, DEAD_LETTER_QUEUE].flatMap((q) =>
      ['wait', 'active', 'delayed', 'prioritized', 'meta', 'events', 'marker', 'de:x', '123'].map(
        (s) => `${p}:${q}:${s}`,
      ),
    );
    const slots = await Promise.all(
      [...ours, ...bull].map(async (k) => Number(await ctx.redis.call('CLUSTER', 'KEYSLOT', k))),
    );
    expect(new Set(slots).size).toBe(1);
  });
});

describe('producer and operator paths on the cluster', () => {
  it('enqueue, duplicate, enqueueMany and the audit trail', async () => {
    const meta = { requestedBy: 'cluster-test', source: 'cli' as const };
    const first = await enqueue(ctx, { user: 'ann@contoso.com' }, meta);
    expect(first).toMatchObject({ duplicate: false, state: 'waiting' });
    const again = await enqueue(ctx, { user: 'ANN@contoso.com' }, meta);
    expect(again).toMatchObject({ duplicate: true, id: first.id });

    const many = await enqueueMany(
      ctx,
      [
        { user: 'bob@contoso.com' },
        { user: 'not a user' },
        { user: 'bob@contoso.com' },
        { user: 'cy@contoso.com' },
      ],
      meta,
    );
    expect(many.map((r) => r.status)).toEqual(['accepted', 'invalid', 'duplicate', 'accepted']);
    expect(await ctx.retire.getWaitingCount()).toBe(3);

    const audit = await readAudit(ctx, { count: 50 });
    expect(audit.filter((a) => a.type === 'requested').map((a) => a.user)).toEqual(
      expect.arrayContaining(['ann@contoso.com', 'bob@contoso.com', 'cy@contoso.com']),
    );
    const history = await userHistory(ctx, 'ann@contoso.com');
    expect(history.map((h) => h.type)).toEqual(['requested', 'duplicate']);
  });

  it('dead letters: move twice (one copy), list, redrive, discard', async () => {
    const job = await ctx.retire.getJob(
      (await enqueue(ctx, { user: 'dee@contoso.com' }, { requestedBy: 't', source: 'cli' })).id,
    );
    if (!job?.id) throw new Error('job missing');
    const info = { reason: 'not_found' as const, lastStatus: 404, attempts: 1, throttledWaits: 0 };
    const id = await moveToDeadLetter(ctx, { id: job.id, data: job.data as RetireJobData }, info);
    expect(await moveToDeadLetter(ctx, { id: job.id, data: job.data as RetireJobData }, info)).toBe(id);
    expect(id).toBe(deadLetterId(job.id));
    await job.remove();

    const listed = await listDeadLetters(ctx, { reason: 'not_found' });
    expect(listed.total).toBe(1);
    expect((await getDeadLetter(ctx, id)).original.user).toBe('dee@contoso.com');

    const redriven = await redriveDeadLetter(ctx, id, 'operator-a');
    expect(redriven.duplicate).toBe(false);
    expect(await ctx.retire.getJobState(redriven.jobId)).toBe('waiting');
    expect((await listDeadLetters(ctx)).total).toBe(0);

    const other = await ctx.retire.getJob(
      (await enqueue(ctx, { user: 'eve@contoso.com' }, { requestedBy: 't', source: 'cli' })).id,
    );
    if (!other?.id) throw new Error('job missing');
    const id2 = await moveToDeadLetter(ctx, { id: other.id, data: other.data as RetireJobData }, info);
    await discardDeadLetter(ctx, id2, 'operator-b', 'left already');
    expect((await listDeadLetters(ctx)).total).toBe(0);
    const types = (await userHistory(ctx, 'eve@contoso.com')).map((h) => h.type);
    expect(types).toEqual(['requested', 'dead-lettered', 'discarded']);
  });

  it('pause, circuit and resume are shared state on the cluster', async () => {
    await pauseQueue(ctx, 'operator-a', 'maintenance');
    let status = await getQueueStatus(ctx);
    expect(status.paused).toBe(true);
    expect(status.pause).toMatchObject({ reason: 'maintenance', actor: 'operator-a' });
    await resumeQueue(ctx, 'operator-a');
    expect(await ctx.retire.isPaused()).toBe(false);

    expect(await openCircuit(ctx, { code: 'invalid_client', reason: 'secret expired' })).toBe(true);
    expect(await openCircuit(ctx, { code: 'invalid_client', reason: 'again' })).toBe(false);
    status = await getQueueStatus(ctx);
    expect(status.paused).toBe(true);
    expect(status.circuit).toMatchObject({ open: true, code: 'invalid_client' });
    expect(await resumeQueue(ctx, 'operator-a')).toEqual({ circuitWasOpen: true });
    status = await getQueueStatus(ctx);
    expect(status.paused).toBe(false);
    expect(status.circuit.open).toBe(false);
  });

  it('a BullMQ Worker on a blocking cluster connection processes every waiting job', async () => {
    const waiting = await ctx.retire.getWaitingCount();
    expect(waiting).toBeGreaterThan(0);
    const seen: string[] = [];
    const connection = createRedis(config.redis, { blocking: true, name: 'cluster-worker' });
    const worker = new Worker<RetireJobData>(
      RETIRE_QUEUE,
      async (job) => {
        seen.push(job.data.user);
        return { ok: true };
      },
      { connection, prefix: ctx.prefix, concurrency: 3 },
    );
    worker.on('error', () => {});
    try {
      await until(
        async () => (await ctx.retire.getCompletedCount()) === waiting,
        `${waiting} jobs completed`,
      );
      expect(await ctx.retire.getWaitingCount()).toBe(0);
      expect(new Set(seen).size).toBe(waiting);
    } finally {
      await worker.close();
      connection.disconnect();
    }
  });
});

describe('cluster outage', () => {
  it('producers fail fast while every node is down (never a false success) and recover after', async () => {
    const meta = { requestedBy: 'cluster-test', source: 'cli' as const };
    await cluster.stopAll();
    const started = Date.now();
    await expect(enqueue(ctx, { user: 'outage@contoso.com' }, meta)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(10_000);

    await cluster.startAll();
    // The nodes come back empty (no AOF in this test) but with their slots: the same client recovers.
    const result = await until(
      () => enqueue(ctx, { user: 'after@contoso.com' }, meta).catch(() => undefined),
      'enqueue to succeed after the cluster came back',
    );
    expect(result.duplicate).toBe(false);
    expect(await ctx.retire.getJobState(result.id)).toBe('waiting');
  });
});
