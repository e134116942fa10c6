// Baseline for the pipeline-overhead figure: the least a BullMQ worker can do for a retire job —
// one POST with a token fetched once, no pacing, records, audit or retries.
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { exitOnSignal, fetchToken, postRetire, readBaselineEnv, UnexpectedStatusError } from './env.js';

const env = readBaselineEnv();
const token = await fetchToken(env);
const connection = new Redis(env.redisUrl, { maxRetriesPerRequest: null });

const worker = new Worker<{ user: string }>(
  'retire',
  async (job) => {
    const res = await postRetire(env, token, job.data.user);
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
