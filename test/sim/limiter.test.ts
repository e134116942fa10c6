import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../src/graph/retry-after.js';
import { SlidingWindow } from '../../src/sim/graph/limiter.js';
import { AnnouncedWindows, formatRetryAfter } from '../../src/sim/graph/windows.js';
import type { RetryAfterFormat } from '../../src/sim/types.js';
import { fetchAppToken, postRetire, startTestSimulator, type TestSimulator } from '../helpers/sim.js';

describe('sliding window', () => {
  it('admits `limit` calls per window and says when the next may go', () => {
    const w = new SlidingWindow();
    const limit = { limit: 3, windowMs: 1000 };
    for (const t of [0, 100, 200]) {
      expect(w.waitMs(t, limit)).toBe(0);
      w.record(t);
    }
    expect(w.waitMs(300, limit)).toBe(700); // the call at 0 leaves the window at 1000
    expect(w.waitMs(1000, limit)).toBe(0);
    w.record(1000);
    // No fixed-window edge: at 1050 the calls at 100, 200, 1000 are still inside.
    expect(w.waitMs(1050, limit)).toBe(50);
  });

  it('formats Retry-After in each style, never earlier than the real wait', () => {
    const now = Date.parse('2025-01-01T00:00:00.400Z');
    expect(formatRetryAfter(1200, 'seconds', now)).toEqual({ header: '2', until: now + 2000 });
    expect(formatRetryAfter(2127.2, 'fractional', now)).toEqual({ header: '2.128', until: now + 2128 });
    const date = formatRetryAfter(1200, 'http-date', now);
    expect(date.header).toBe('Wed, 01 Jan 2025 00:00:02 GMT');
    expect(date.until).toBe(Date.parse('2025-01-01T00:00:02Z'));
    expect(parseRetryAfter(date.header ?? null, now)).toBeGreaterThanOrEqual(1200);
    expect(formatRetryAfter(1200, 'none', now)).toEqual({});
  });

  it('classifies calls against announced windows with a grace for calls on the wire', () => {
    const windows = new AnnouncedWindows();
    windows.announce(1000, 2000);
    expect(windows.classify(999, 25)).toEqual({ kind: 'none' });
    expect(windows.classify(1020, 25)).toEqual({ kind: 'in-flight' });
    expect(windows.classify(1500, 25)).toEqual({ kind: 'violation', remainingMs: 500 });
    expect(windows.classify(2000, 25)).toEqual({ kind: 'none' });
  });
});

describe('Graph fake throttling over HTTP', () => {
  let sim: TestSimulator;
  let token: string;

  beforeAll(async () => {
    sim = await startTestSimulator({ violationGraceMs: 25 });
    token = await fetchAppToken(sim);
  });
  afterAll(async () => {
    await sim?.close();
  });

  async function burst(n: number): Promise<Response[]> {
    const out: Response[] = [];
    for (let i = 0; i < n; i++) out.push(await postRetire(sim, `user${i}@contoso.com`, token));
    return out;
  }

  const patterns: Record<RetryAfterFormat, RegExp | null> = {
    seconds: /^\d+$/,
    fractional: /^\d+\.\d{3}$/,
    'http-date': /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
    none: null,
  };

  for (const [format, pattern] of Object.entries(patterns) as [RetryAfterFormat, RegExp | null][]) {
    it(`answers 429 over the limit with Retry-After as ${format}`, async () => {
      sim.control({ limit: { limit: 3, windowMs: 1000, retryAfter: format } });
      sim.reset();
      // Concurrent, so the four arrive well inside the window even on a loaded machine.
      const answers = await Promise.all(
        [0, 1, 2, 3].map((i) => postRetire(sim, `user${i}@contoso.com`, token)),
      );
      expect(answers.map((r) => r.status).sort()).toEqual([204, 204, 204, 429]);
      const throttled = answers.find((r) => r.status === 429) as Response;
      const body = (await throttled.json()) as { error: { code: string } };
      expect(body.error.code).toBe('TooManyRequests');
      const header = throttled.headers.get('retry-after');
      if (pattern === null) {
        expect(header).toBeNull();
        return;
      }
      expect(header).toMatch(pattern);
      const waitMs = parseRetryAfter(header) ?? 0;
      expect(waitMs).toBeGreaterThan(0);
      expect(waitMs).toBeLessThanOrEqual(2500);
      // Honouring the announced wait gets through and is no violation.
      await new Promise((r) => setTimeout(r, waitMs + 5));
      expect((await postRetire(sim, 'late@contoso.com', token)).status).toBe(204);
      expect(sim.stats().graph).toMatchObject({ throttled: 1, insideRetryAfterWindow: 0 });
    });
  }

  it('counts calls sent inside an announced window (and answers them 429)', async () => {
    sim.control({ limit: { limit: 2, windowMs: 3000, retryAfter: 'fractional' } });
    sim.reset();
    await burst(3);
    await new Promise((r) => setTimeout(r, 60)); // past the grace
    const rude = await postRetire(sim, 'rude@contoso.com', token);
    expect(rude.status).toBe(429);
    expect(Number(rude.headers.get('retry-after'))).toBeGreaterThan(0);
    const graph = sim.stats().graph;
    expect(graph.insideRetryAfterWindow).toBe(1);
    expect(graph.throttled).toBe(2);
    expect(graph.byStatus).toEqual({ '204': 2, '429': 2 });
  });

  it('counts calls arriving within the grace as in flight, not as violations', async () => {
    sim.control({ limit: { limit: 1, windowMs: 3000 }, violationGraceMs: 5000 });
    sim.reset();
    try {
      await burst(2);
      await postRetire(sim, 'onthewire@contoso.com', token);
      expect(sim.stats().graph).toMatchObject({ inFlightAtAnnouncement: 1, insideRetryAfterWindow: 0 });
    } finally {
      sim.control({ violationGraceMs: 25 });
    }
  });

  it('applies a tenant-wide window across apps', async () => {
    sim.control({ limit: null, tenantLimit: { limit: 2, windowMs: 2000 } });
    sim.reset();
    expect((await burst(3)).map((r) => r.status)).toEqual([204, 204, 429]);
    sim.control({ tenantLimit: null });
  });
});
