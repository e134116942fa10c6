// Baseline for the pipeline-overhead figure: the least a BullMQ worker can do for a retire job —
// one POST with a token fetched once, no pacing, records, audit or retries. BARE_HTTP=request sends
// it with undici's request() instead of fetch.
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import {
  exitOnSignal,
  fetchToken,
  postRetire,
  postRetireRequest,
  readBaselineEnv,
  UnexpectedStatusError,
} from './env.js';

const env = readBaselineEnv();
// BARE_HTTP=request: the same worker with undici's request() instead of fetch (the product's client).
const post = process.env.BARE_HTTP === 'request' ? postRetireRequest : postRetire;
const token = await fetchToken(env);
const connection = new Redis(env.redisUrl, { maxRetriesPerRequest: null });

const worker = new Worker<{ user: string }>(
  'retire',
  async (job) => {
    const res = await post(env, token, job.data.user);
    if (res.status !== 204) throw new UnexpectedStatusError(`Graph answered ${res.status}`);
    return { status: res.status };
  },
  { connection, prefix: env.prefix, concurrency: env.concurrency },
);
worker.on('error', () => {});
exitOnSignal(async () => {
  await worker.close();
  connection.disconnect();
});
