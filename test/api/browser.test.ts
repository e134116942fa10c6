// The dashboard and status page in a real headless Chromium: a viewer key logs in over HTTP Basic,
// sees the dead-letter queue with a seeded job, and is not offered retry (read-only board); the
// operator board offers none either, and refuses one sent from its own page. Screenshots go to
// test-artifacts/ (gitignored).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnrecoverableError, Worker } from 'bullmq';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.js';
import { enqueue } from '../../src/intake/enqueue.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { moveToDeadLetter } from '../../src/records/dead-letter.js';
import { createRedis } from '../../src/redis/connection.js';
import { ensureChromium } from '../helpers/chromium.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { apiConfig, KEYS, liveApi, pollUntil } from './helpers.js';

// Debian's chromium; `npm test` installs it when missing (scripts/ensure-system-deps.mjs).
const CHROMIUM = ensureChromium();
const ARTIFACTS = join(process.cwd(), 'test-artifacts');

let redis: TestRedis;
let api: RunningApi;
let ctx: QueueContext;
let failedJobId: string;
const profiles: string[] = [];
const contexts: BrowserContext[] = [];

async function browserAs(key: string): Promise<{ page: Page; csp: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'offboard-chromium-'));
  profiles.push(dir);
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    httpCredentials: { username: 'anyone', password: key },
    viewport: { width: 1400, height: 900 },
  });
  contexts.push(context);
  const page = context.pages()[0] ?? (await context.newPage());
  const csp: string[] = [];
  page.on('console', (msg) => {
    if (msg.text().includes('Content Security Policy')) csp.push(msg.text());
  });
  return { page, csp };
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  redis = await startRedis();
  api = await liveApi(redis);
  const config = apiConfig(redis);
  ctx = createQueueContext(config);
  await moveToDeadLetter(
    ctx,
    {
      id: 'seeded-7',
      data: {
        user: 'seeded.leaver@contoso.com',
        dryRun: false,
        correlationId: 'HR-7',
        requestedBy: 'hr-system',
        requestedAt: new Date().toISOString(),
        source: 'api',
      },
    },
    { reason: 'forbidden', lastStatus: 403, graphCode: 'Forbidden', attempts: 1, throttledWaits: 0 },
  );
  // A failed retire job: the one kind of job Bull Board offers to retry.
  failedJobId = (
    await enqueue(ctx, { user: 'failed.leaver@contoso.com' }, { requestedBy: 'hr-system', source: 'api' })
  ).id;
  const connection = createRedis(config.redis, { blocking: true });
  const worker = new Worker(
    'retire',
    async () => {
      throw new UnrecoverableError('seeded failure');
    },
    { connection, prefix: config.redis.prefix },
  );
  await pollUntil(
    () => ctx.retire.getJobState(failedJobId),
    (s) => s === 'failed',
  );
  await worker.close();
  connection.disconnect();
}, 60_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  for (const d of profiles) rmSync(d, { recursive: true, force: true });
  await api.close();
  await closeQueueContext(ctx);
  await redis.stop();
});

describe('dashboard in Chromium', () => {
  it('lets a viewer see the seeded dead letter, read-only, with no retry offered', async () => {
    const { page } = await browserAs(KEYS.viewer);
    await page.goto(`${api.url}/dashboard`);
    await page.waitForURL(/\/dashboard\/viewer\/$/);
    await page.goto(`${api.url}/dashboard/viewer/queue/dead-letter`);
    await page.getByText('dl-seeded-7').first().waitFor({ timeout: 30_000 });
    await expect(
      page
        .getByText(/Read-only/i)
        .first()
        .isVisible(),
    ).resolves.toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-viewer-dead-letter.png'), fullPage: true });

    await page.goto(`${api.url}/dashboard/viewer/queue/retire?status=failed`);
    await page.getByText(failedJobId.slice(0, 8)).first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-viewer-failed.png'), fullPage: true });
    expect(await page.getByRole('button', { name: /retry/i }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /clean/i }).count()).toBe(0);
  });

  it('offers no retry on the operator board, and refuses one sent from its own page', async () => {
    const { page } = await browserAs(KEYS.operator);
    await page.goto(`${api.url}/dashboard`);
    await page.waitForURL(/\/dashboard\/operator\/$/);
    await page.goto(`${api.url}/dashboard/operator/queue/retire?status=failed`);
    await page.getByText(failedJobId.slice(0, 8)).first().waitFor({ timeout: 30_000 });
    expect(await page.getByRole('button', { name: /retry/i }).count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-operator-failed.png'), fullPage: true });
    // The board's own origin, the operator's own credentials: a retry would re-run a finished leaver
    // outside intake, the guard and the audit, so the server refuses it (deny by default).
    const statuses = await page.evaluate(async () => {
      const out: number[] = [];
      for (const path of ['retry/failed', 'retry/completed', 'promote']) {
        const res = await fetch(`/dashboard/operator/api/queues/retire/${path}`, { method: 'PUT' });
        out.push(res.status);
      }
      return out;
    });
    expect(statuses).toEqual([403, 403, 403]);
    expect(await ctx.retire.getJobState(failedJobId)).toBe('failed');
  });

  it('refuses a producer key and no key', async () => {
    const { page } = await browserAs(KEYS.producer);
    const res = await page.goto(`${api.url}/dashboard/viewer/`);
    expect(res?.status()).toBe(403);
    const anon = await fetch(`${api.url}/dashboard/viewer/`);
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/^Basic realm="offboard"/);
  });
});

describe('status page in Chromium', () => {
  it('shows counts, circuit and the latest dead letters, and refreshes itself', async () => {
    const { page, csp } = await browserAs(KEYS.viewer);
    const res = await page.goto(`${api.url}/`);
    expect(res?.status()).toBe(200);
    const text = await page.locator('body').textContent();
    expect(text).toContain('dl-seeded-7');
    expect(text).toContain('seeded.leaver@contoso.com');
    expect(text).toMatch(/Circuit: closed/);
    expect(text).toMatch(/dead-letter/);
    await page.screenshot({ path: join(ARTIFACTS, 'status-page.png'), fullPage: true });
    // The meta refresh reloads the page by itself (10 s).
    const reloaded = page.waitForEvent('load', { timeout: 25_000 });
    await reloaded;
    expect(await page.locator('h1').textContent()).toBe('offboard status');
    // The inline stylesheet is allowed by its hash: the strict CSP blocks nothing on this page.
    expect(csp).toEqual([]);
  }, 60_000);
});
