// Fault 2: Redis is shut down (graceful SHUTDOWN with AOF on) and started again on the same port
// while a batch runs and a producer keeps submitting. Every request the API acknowledged with 202
// must end retired; the API answers 503 (never a false 202) while Redis is away; workers and API
// reconnect by themselves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usersApplied } from './support/figures.js';
import { sleep, waitFor } from './support/poll.js';
import { makeUsers, report, type Stack, startStack } from './support/stack.js';

const BATCH = 600;
const DOWN_MS = 3000;

describe('fault: Redis restart during a batch', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      group: 'redis-restart',
      workers: 2,
      sim: { latencyMs: 50 },
      env: { GRAPH_RATE_LIMIT: '60/2s', WORKER_LOCK_DURATION: '10s', WORKER_STALLED_INTERVAL: '3s' },
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('keeps every acknowledged job and reconnects by itself', async () => {
    const batchUsers = makeUsers(BATCH, 'restart');
    const ids = await stack.submitBatch(batchUsers);
    expect(ids.size).toBe(BATCH);

    // A producer keeps posting single offboardings through the restart.
    const acknowledged = new Map<string, string>();
    const answers: Record<string, number> = {};
    let upAt = 0;
    let firstAckAfterRestart = 0;
    let acksAfterRestart = 0;
    let producing = true;
    let slowestAnswerMs = 0;
    let n = 0;
    const producer = (async () => {
      while (producing) {
        const user = `live-${String(n++).padStart(5, '0')}@contoso.com`;
        let key = 'network-error';
        const sent = Date.now();
        try {
          const res = await stack.call('POST', '/v1/offboardings', { role: 'producer', body: { user } });
          key = String(res.status);
          if (res.status === 202) {
            expect(res.body?.id).toEqual(expect.any(String));
            acknowledged.set(user, res.body.id as string);
            if (upAt && Date.now() > upAt) {
              acksAfterRestart++;
              firstAckAfterRestart ||= Date.now();
            }
          }
        } catch {
          // The API itself did not answer: counted and asserted below.
        }
        answers[key] = (answers[key] ?? 0) + 1;
        slowestAnswerMs = Math.max(slowestAnswerMs, Date.now() - sent);
        await sleep(100);
      }
    })();

    await waitFor(
      'the batch to be under way',
      async () => usersApplied(stack.sim.stats(), batchUsers) >= 150,
      {
        timeoutMs: 120_000,
      },
    );
    const downAt = Date.now();
    await stack.redis.restart({ downMs: DOWN_MS });
    upAt = Date.now();

    // The API must accept again without being restarted.
    await waitFor('the API to acknowledge again after the restart', async () => acksAfterRestart >= 10, {
      timeoutMs: 60_000,
    });
    producing = false;
    await producer;

    const allIds = new Map([...ids, ...acknowledged]);
    const truth = await stack.waitAllRetired(allIds.values(), 240_000);
    const stats = stack.sim.stats();
    const firstRetiredAfterRestart = stats.graph.log
      .filter((e) => e.at >= upAt && e.status >= 200 && e.status < 300)
      .reduce((min, e) => Math.min(min, e.at), Number.POSITIVE_INFINITY);

    const figures = {
      batchJobs: BATCH,
      acknowledgedByProducer: acknowledged.size,
      acknowledgedTotal: allIds.size,
      retired: truth.retired,
      answers,
      slowestApiAnswerMs: slowestAnswerMs,
      redisDownSeconds: Math.round((upAt - downAt) / 100) / 10,
      apiFirstAckAfterRedisUpSeconds: Math.round((firstAckAfterRestart - upAt) / 100) / 10,
      workersFirstRetireAfterRedisUpSeconds: Math.round((firstRetiredAfterRestart - upAt) / 100) / 10,
      jobsRecoveredByStallDetection: truth.stalledJobs,
      deadLetters: truth.deadLetters,
    };
    report('redis-restart', figures);

    expect(truth.retired).toBe(allIds.size);
    expect(truth.deadLetters).toBe(0);
    for (const user of allIds.keys()) expect(stats.graph.successByUser[user] ?? 0).toBeGreaterThan(0);
    // While Redis was away the API said 503, never a false 202, and it never stopped answering.
    expect(answers['503'] ?? 0).toBeGreaterThan(0);
    for (const status of Object.keys(answers)) expect(['202', '503']).toContain(status);
    expect(Number.isFinite(firstRetiredAfterRestart)).toBe(true);
    expect(stack.api.running()).toBe(true);
    expect(stack.workers.every((w) => w.running())).toBe(true);
  });
});
