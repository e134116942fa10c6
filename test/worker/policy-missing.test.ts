// A job that names a device policy profile reaching a worker without DEVICE_POLICY_FILE (a worker
// deployed without the file, or the file removed) is not retired the old way: removing every device
// from management could wipe company data from devices the profile leaves alone. It is dead-lettered
// `invalid_job` with the reason, and nothing is sent to Graph.
import { describe, expect, it } from 'vitest';
import type { RetireJobData } from '../../src/interfaces.js';
import { waitFor } from '../helpers/worker.js';
import { useWorkerSuite } from '../helpers/worker-suite.js';

const suite = useWorkerSuite();

describe('a job naming a device policy on a worker without one', () => {
  it('is dead-lettered invalid_job naming the profile; no write, no read', async () => {
    const config = suite.config({ EVIDENCE: 'on', GRAPH_READ_RATE_LIMIT: '1000/1s' });
    const ctx = suite.open(config);
    await suite.startWorker(config);
    const data: RetireJobData = {
      user: 'laptop-owner@contoso.com',
      dryRun: false,
      correlationId: 'c-policy-missing',
      requestedBy: 'test',
      requestedAt: new Date().toISOString(),
      source: 'api',
      devicePolicy: 'dispose',
    };
    await ctx.retire.add('retire', data, { jobId: 'policy-missing-1' });
    const dl = await waitFor(async () => (await ctx.deadLetter.getJob('dl-policy-missing-1')) ?? undefined, {
      what: 'the dead letter',
    });
    expect(dl.data.reason).toBe('invalid_job');
    expect(dl.data.graphMessage ?? '').toContain('"dispose"');
    expect(suite.sim.stats().graph.byUser['laptop-owner@contoso.com']).toBeUndefined();
    expect(suite.sim.stats().reads?.byUser['laptop-owner@contoso.com']).toBeUndefined();
  });
});
