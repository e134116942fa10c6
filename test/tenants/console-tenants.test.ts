// The console per tenant (issue 22), in real headless Chromium: a tenant-scoped key lands on its
// tenants' page, sees only its own row and no other tenant's name, and every page that cannot
// filter refuses it; an unscoped viewer sees every tenant on the overview and filters the Tenants
// page by name and by trouble. /metrics carries a `tenant` label bounded by the tenants file.
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApi, startApi } from '../../src/api/server.js';
import { enqueue } from '../../src/intake/enqueue.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { moveToDeadLetter } from '../../src/records/dead-letter.js';
import { bearer, KEYS, memoryLogger } from '../api/helpers.js';
import { ensureChromium } from '../helpers/chromium.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { SCOPED, scopedKeysEnv, TENANTS, tenantsFileEnv } from './helpers.js';

let redis: TestRedis;
let api: RunningApi;
let ctx: QueueContext;
let browser: Browser;

beforeAll(async () => {
  redis = await startRedis();
  const config = testConfig(
    {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: redis.prefix,
      API_KEYS: scopedKeysEnv(),
      API_PORT: '0',
      API_HOST: '127.0.0.1',
      API_RATE_LIMIT: '1000000',
      GUARD_THRESHOLD: '1000000',
      ...tenantsFileEnv(TENANTS),
    },
    { needApi: true },
  );
  api = await startApi(config, { logger: memoryLogger('warn').logger });
  ctx = createQueueContext(config);
  const meta = { requestedBy: 'hr-system', source: 'api' as const };
  for (const n of [1, 2, 3]) await enqueue(ctx, { user: `c${n}@contoso.com`, tenant: 'contoso' }, meta);
  await enqueue(ctx, { user: 'f1@fabrikam.com', tenant: 'fabrikam' }, meta);
  await moveToDeadLetter(
    ctx,
    {
      id: 'fab-dead',
      data: {
        user: 'f2@fabrikam.com',
        dryRun: false,
        correlationId: 'c',
        requestedBy: 'hr-system',
        requestedAt: new Date().toISOString(),
        source: 'api',
        tenant: 'fabrikam',
      },
    },
    { reason: 'not_found', lastStatus: 404, attempts: 1, throttledWaits: 0 },
  );
  browser = await chromium.launch({ executablePath: ensureChromium(), args: ['--no-sandbox'] });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await closeQueueContext(ctx);
  await redis?.stop();
});

async function signIn(key: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${api.url}/console/sign-in`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState('load');
  return { context, page };
}

const rowsOf = (page: import('playwright-core').Page) =>
  page
    .locator('#tenants-table tbody tr')
    .evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('th,td')].map((c) => (c.textContent ?? '').trim())),
    );

describe('console per tenant', () => {
  it('a scoped key lands on its tenants and sees nothing of the others', async () => {
    const { context, page } = await signIn(SCOPED.viewContoso);
    try {
      expect(new URL(page.url()).pathname).toBe('/console/tenants');
      const rows = await rowsOf(page);
      expect(rows).toHaveLength(1);
      expect(rows[0]?.slice(0, 1)).toEqual(['contoso']);
      // contoso's 3 jobs: waiting, or delayed for the tenant's turn (spread at its pace).
      expect(Number(rows[0]?.[4]) + Number(rows[0]?.[5])).toBe(3);
      const text = (await page.locator('body').textContent()) ?? '';
      expect(text).not.toContain('fabrikam');
      expect(text).not.toContain('northwind');
      const nav = await page.locator('nav a').allInnerTexts();
      expect(nav).toEqual(['Tenants']);
      // Pages that cannot filter refuse it; the overview sends it back here.
      for (const path of [
        '/console/dead-letters',
        '/console/batches',
        '/console/lookup',
        '/console/schedules',
      ]) {
        const res = await page.goto(`${api.url}${path}`);
        expect(res?.status(), path).toBe(403);
      }
      await page.goto(`${api.url}/console`);
      expect(new URL(page.url()).pathname).toBe('/console/tenants');
      // Asking for another tenant by name finds nothing.
      await page.goto(`${api.url}/console/tenants?tenant=fabrikam`);
      expect(await page.locator('#tenants-empty').count()).toBe(1);
    } finally {
      await context.close();
    }
  });

  it('an unscoped viewer sees every tenant on the overview and filters the Tenants page', async () => {
    const { context, page } = await signIn(KEYS.viewer);
    try {
      expect(new URL(page.url()).pathname).toBe('/console');
      expect((await rowsOf(page)).map((r) => r[0])).toEqual(['contoso', 'fabrikam', 'northwind']);
      await page.getByRole('link', { name: 'Tenants', exact: true }).click();
      await page.getByLabel('Tenant name contains').fill('fab');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL(/tenant=fab/);
      const rows = await rowsOf(page);
      expect(rows).toHaveLength(1);
      // fabrikam: 1 waiting, 1 dead letter, its pace from GRAPH_RATE_LIMIT, gate open, circuit closed.
      expect(rows[0]?.[0]).toBe('fabrikam');
      expect(rows[0]?.[2]).toBe('open');
      expect(rows[0]?.[3]).toBe('closed');
      expect(rows[0]?.[4]).toBe('1');
      expect(rows[0]?.[7]).toBe('1');
      expect(Number(rows[0]?.[1])).toBeGreaterThan(0);
      await page.getByLabel('Show').selectOption('attention');
      await page.getByLabel('Tenant name contains').fill('');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL(/show=attention/);
      expect(await page.locator('#tenants-empty').count()).toBe(1);
    } finally {
      await context.close();
    }
  });
});

describe('/metrics per tenant', () => {
  it('labels the per-tenant series with the configured names only; a scoped key reads only its own', async () => {
    const all = await fetch(`${api.url}/metrics`, { headers: bearer(KEYS.viewer) }).then((r) => r.text());
    expect(all).toMatch(/offboard_tenant_jobs\{tenant="contoso",state="waiting"\} [1-3]\n/);
    expect(all).toContain('offboard_tenant_jobs{tenant="fabrikam",state="dead-lettered"} 1');
    const labels = new Set([...all.matchAll(/tenant="([^"]+)"/g)].map((m) => m[1]));
    expect([...labels].sort()).toEqual(['contoso', 'fabrikam', 'northwind']);
    const scoped = await fetch(`${api.url}/metrics`, { headers: bearer(SCOPED.viewContoso) });
    expect(scoped.status).toBe(200);
    const text = await scoped.text();
    expect(text).toMatch(/offboard_tenant_jobs\{tenant="contoso",state="waiting"\} [1-3]\n/);
    expect(text).not.toContain('fabrikam');
    expect(text).not.toContain('offboard_queue_jobs');
  });
});
