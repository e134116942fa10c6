// The evidence store (src/evidence/store.ts) against a real Redis: records and their indexes,
// compare-and-set verification updates under concurrency, paged listing in time order with
// filters and cursors, the operators' unverified list, counts and retention pruning.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceRows } from '../../src/evidence/rows.js';
import {
  countByVerificationState,
  EvidenceConflictError,
  evidenceCursor,
  getEvidence,
  InvalidEvidenceCursorError,
  listEvidence,
  listUnverified,
  saveEvidence,
  updateVerification,
} from '../../src/evidence/store.js';
import type { EvidenceRecord, Verification } from '../../src/interfaces.js';
import { keys } from '../../src/queue/names.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

const DAY = 86_400_000;
let redis: TestRedis;
let client: Redis;
let n = 0;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  client.disconnect();
  await redis.stop();
});

function record(over: Partial<EvidenceRecord> & { at: number }): EvidenceRecord {
  const { at, ...rest } = over;
  n++;
  return {
    jobId: `job-${n}`,
    user: `user${n}@example.com`,
    requestedBy: 'test',
    correlationId: `c-${n}`,
    source: 'api',
    inventoriedAt: new Date(at).toISOString(),
    inventoryRequestIds: [],
    devices: [{ id: `d-${n}`, deviceName: 'LAPTOP', managementState: 'managed' }],
    action: { at: new Date(at + 10).toISOString(), requestId: 'r-1', status: 204 },
    outcome: 'retired',
    verification: { state: 'pending', checks: 0, devices: [] },
    ...rest,
  };
}

function ended(state: 'verified' | 'unverified', at = Date.now()): Verification {
  return { state, checks: 1, endedAt: new Date(at).toISOString(), devices: [] };
}

async function collect(gen: AsyncGenerator<EvidenceRecord>): Promise<string[]> {
  const out: string[] = [];
  for await (const r of gen) out.push(r.jobId);
  return out;
}

describe('evidence store', () => {
  it('saves a record with the retention as TTL and reads it back unchanged (empty arrays stay arrays)', async () => {
    const prefix = `${redis.prefix}a`;
    const r = record({ at: Date.now() });
    await saveEvidence(client, prefix, r, 2 * DAY);
    expect(await getEvidence(client, prefix, r.jobId)).toEqual(r);
    const ttl = await client.pttl(keys.evidence(prefix, r.jobId));
    expect(ttl).toBeGreaterThan(2 * DAY - 60_000);
    expect(await client.zscore(keys.evidenceByTime(prefix), r.jobId)).toBe(
      String(Date.parse(r.inventoriedAt)),
    );
    expect(await client.zscore(keys.evidencePending(prefix), r.jobId)).not.toBeNull();
    expect(await getEvidence(client, prefix, 'nope')).toBeNull();
  });

  it('moves a job between the state indexes and keeps the unverified list in step', async () => {
    const prefix = `${redis.prefix}b`;
    const r = record({ at: Date.now() });
    await saveEvidence(client, prefix, r, DAY);
    expect(await countByVerificationState(client, prefix)).toEqual({
      pending: 1,
      verified: 0,
      unverified: 0,
    });

    const after = await updateVerification(client, prefix, r.jobId, ended('unverified'), DAY);
    expect(after?.verification.state).toBe('unverified');
    expect(after?.inventoryRequestIds).toEqual([]);
    expect(await countByVerificationState(client, prefix)).toEqual({
      pending: 0,
      verified: 0,
      unverified: 1,
    });
    expect((await listUnverified(client, prefix)).map((x) => x.jobId)).toEqual([r.jobId]);

    // A reverify puts it back to pending: it leaves the operators' list.
    await updateVerification(client, prefix, r.jobId, { state: 'pending', checks: 1, devices: [] }, DAY);
    expect(await listUnverified(client, prefix)).toEqual([]);
    await updateVerification(client, prefix, r.jobId, ended('verified'), DAY);
    expect(await countByVerificationState(client, prefix)).toEqual({
      pending: 0,
      verified: 1,
      unverified: 0,
    });
    expect((await getEvidence(client, prefix, r.jobId))?.verification.state).toBe('verified');
  });

  it('loses no write when many verify runs update the same record at once', async () => {
    const prefix = `${redis.prefix}c`;
    const r = record({ at: Date.now() });
    await saveEvidence(client, prefix, r, DAY);
    const bump = (cur: EvidenceRecord): Verification => ({
      ...cur.verification,
      checks: cur.verification.checks + 1,
    });
    // Separate connections so the read-compute-write cycles really interleave.
    const clients = Array.from({ length: 4 }, () => new Redis(redis.url, { maxRetriesPerRequest: 1 }));
    try {
      await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          updateVerification(clients[i % 4] as Redis, prefix, r.jobId, bump, DAY),
        ),
      );
    } finally {
      for (const c of clients) c.disconnect();
    }
    expect((await getEvidence(client, prefix, r.jobId))?.verification.checks).toBe(16);
  });

  it('an updater returning null leaves the record alone; a missing record gives null', async () => {
    const prefix = `${redis.prefix}d`;
    const r = record({ at: Date.now() });
    await saveEvidence(client, prefix, r, DAY);
    const same = await updateVerification(client, prefix, r.jobId, () => null, DAY);
    expect(same).toEqual(r);
    expect(await updateVerification(client, prefix, 'missing', ended('verified'), DAY)).toBeNull();
    expect(EvidenceConflictError.name).toBe('EvidenceConflictError');
  });

  it('lists in inventory-time order a page at a time, with range, batch, state, limit and cursor', async () => {
    const prefix = `${redis.prefix}e`;
    const base = Date.now() - 3_600_000;
    const saved: EvidenceRecord[] = [];
    // 25 records, several sharing one millisecond, saved out of order.
    for (let i = 24; i >= 0; i--) {
      const r = record({ at: base + Math.floor(i / 3) * 1000, batchId: i % 2 === 0 ? 'b-even' : undefined });
      saved.push(r);
      await saveEvidence(client, prefix, r, DAY);
    }
    const ordered = [...saved]
      .sort(
        (a, b) => Date.parse(a.inventoriedAt) - Date.parse(b.inventoriedAt) || (a.jobId < b.jobId ? -1 : 1),
      )
      .map((r) => r.jobId);
    expect(await collect(listEvidence(client, prefix, { pageSize: 4 }))).toEqual(ordered);
    // Page size 2 is smaller than a run of equal scores: nothing is skipped or repeated.
    expect(await collect(listEvidence(client, prefix, { pageSize: 2 }))).toEqual(ordered);

    const range = await collect(
      listEvidence(client, prefix, { fromMs: base + 2000, toMs: base + 4000, pageSize: 2 }),
    );
    expect(range).toEqual(
      saved
        .filter((r) => {
          const t = Date.parse(r.inventoriedAt);
          return t >= base + 2000 && t <= base + 4000;
        })
        .sort((a, b) => ordered.indexOf(a.jobId) - ordered.indexOf(b.jobId))
        .map((r) => r.jobId),
    );
    expect(range).toHaveLength(9);

    const even = await collect(listEvidence(client, prefix, { batchId: 'b-even', pageSize: 3 }));
    expect(even).toHaveLength(13);

    const first = saved.find((r) => r.jobId === ordered[5]) as EvidenceRecord;
    await updateVerification(client, prefix, first.jobId, ended('unverified'), DAY);
    expect(await collect(listEvidence(client, prefix, { state: 'unverified' }))).toEqual([first.jobId]);

    // Limit, then continue from the cursor of the last record: the two pages make the whole list.
    const page1: EvidenceRecord[] = [];
    for await (const r of listEvidence(client, prefix, { limit: 7, pageSize: 3 })) page1.push(r);
    expect(page1.map((r) => r.jobId)).toEqual(ordered.slice(0, 7));
    const cursor = evidenceCursor(page1[6] as EvidenceRecord);
    expect(await collect(listEvidence(client, prefix, { cursor, pageSize: 2 }))).toEqual(ordered.slice(7));
    await expect(collect(listEvidence(client, prefix, { cursor: 'garbage' }))).rejects.toBeInstanceOf(
      InvalidEvidenceCursorError,
    );
  });

  it('skips records that expired but are still indexed, and prunes index entries older than the retention', async () => {
    const prefix = `${redis.prefix}f`;
    const old = record({ at: Date.now() - 10 * DAY });
    const fresh = record({ at: Date.now() });
    await saveEvidence(client, prefix, old, 30 * DAY);
    await updateVerification(client, prefix, old.jobId, ended('unverified', Date.now() - 9 * DAY), 30 * DAY);
    // The record expires (simulated) while its index entries stay.
    await client.del(keys.evidence(prefix, old.jobId));
    expect(await collect(listEvidence(client, prefix))).toEqual([]);
    expect(await listUnverified(client, prefix)).toEqual([]);
    expect(await client.zscore(keys.evidenceUnverified(prefix), old.jobId)).toBeNull();

    // A write with a 5-day retention prunes the 10-day-old time index entry.
    await saveEvidence(client, prefix, fresh, 5 * DAY);
    expect(await client.zscore(keys.evidenceByTime(prefix), old.jobId)).toBeNull();
    expect(await collect(listEvidence(client, prefix))).toEqual([fresh.jobId]);
    // Counting within a retention ignores entries older than it.
    expect((await countByVerificationState(client, prefix, 5 * DAY)).pending).toBe(1);
  });
});

describe('records written before issue 18', () => {
  it('read a device’s beta-named ownerType as v1.0 managedDeviceOwnerType, for every reader', async () => {
    const r = record({ at: Date.now() });
    const legacy = {
      ...r,
      devices: [
        { id: 'old-1', deviceName: 'OLD', managementState: 'managed', ownerType: 'personal' },
        { id: 'new-1', deviceName: 'NEW', managementState: 'managed', managedDeviceOwnerType: 'company' },
      ],
    };
    // Written raw, as a version before the rename stored it.
    await client.set(keys.evidence('legacy', r.jobId), JSON.stringify(legacy));
    const read = await getEvidence(client, 'legacy', r.jobId);
    expect(read?.devices).toEqual([
      { id: 'old-1', deviceName: 'OLD', managementState: 'managed', managedDeviceOwnerType: 'personal' },
      { id: 'new-1', deviceName: 'NEW', managementState: 'managed', managedDeviceOwnerType: 'company' },
    ]);
    expect(evidenceRows(read as EvidenceRecord).map((row) => row.ownerType)).toEqual(['personal', 'company']);
  });
});
