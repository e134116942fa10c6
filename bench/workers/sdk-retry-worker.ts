// Baseline for the throttled figure: how most tools call Graph today. Each request retries on its
// own like the Graph JavaScript SDK's RetryHandler middleware (3 retries on 429/503/504, Retry-After
// honoured when present, otherwise 3 s base plus an exponential term and random jitter, capped at
// 180 s); workers do not coordinate. A job that still fails after its retries is failed for good.
import { UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { exitOnSignal, fetchToken, postRetire, readBaselineEnv } from './env.js';

const MAX_RETRIES = 3;
const DELAY_S = 3;
const MAX_DELAY_S = 180;
const RETRY_STATUS = new Set([429, 503, 504]);

/** The SDK's getDelay(): seconds to wait before retry number `attempt` (1-based). */
export function sdkDelaySeconds(retryAfter: string | null, attempt: number): number {
  const jitter = () => Number(Math.random().toFixed(3));
  let delay: number;
  if (retryAfter !== null) {
    delay = Number.isNaN(Number(retryAfter))
      ? Math.round((new Date(retryAfter).getTime() - Date.now()) / 1000)
      : Number(retryAfter);
  } else {
    delay = attempt >= 2 ? Math.round(0.5 * (2 ** attempt - 1)) + DELAY_S + jitter() : DELAY_S + jitter();
  }
  return Math.min(delay, MAX_DELAY_S + jitter());
}

const env = readBaselineEnv();
const token = await fetchToken(env);
const connection = new Redis(env.redisUrl, { maxRetriesPerRequest: null });

const worker = new Worker<{ user: string }>(
  'retire',
  async (job) => {
    let res = await postRetire(env, token, job.data.user);
    for (let attempt = 1; attempt <= MAX_RETRIES && RETRY_STATUS.has(res.status); attempt++) {
      const wait = sdkDelaySeconds(res.headers.get('retry-after'), attempt);
      await new Promise((r) => setTimeout(r, Math.max(0, wait) * 1000));
      res = await postRetire(env, token, job.data.user);
    }
    // Failed for good: the tool reports the user as not retired and moves on.
    if (res.status !== 204) throw new UnrecoverableError(`Graph answered ${res.status}`);
    return { status: res.status };
  },
  { connection, prefix: env.prefix, concurrency: env.concurrency },
);
worker.on('error', () => {});
exitOnSignal(async () => {
  await worker.close();
  connection.disconnect();
});
