// The operator console in real headless Chromium: sign in with a key on the form, act through
// the pages as a viewer (no controls; forged posts refused) and as operators (second-person
// approval, self-approval refused, redrive, pause and resume), CSRF, hostile text, axe-core.
// Screenshots go to test-artifacts/console-*.png.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.js';
import { submitBulk } from '../../src/front-door/front-door.js';
import { listBatches } from '../../src/guard/batches.js';
import { enqueue } from '../../src/intake/enqueue.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { apiConfig, KEY_NAMES, KEYS, liveApi } from '../api/helpers.js';
import { ensureChromium } from '../helpers/chromium.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { seedDeadLetter } from './helpers.js';

const CHROMIUM = ensureChromium();
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';
const ENV = { GUARD_THRESHOLD: '2', GUARD_TWO_PERSON: 'true' };

let redis: TestRedis;
let api: RunningApi;
let ctx: QueueContext;
let browser: Browser;
const contexts: BrowserContext[] = [];
let otherBatch: string;
let ownBatch: string;
let deadLetter: string;

interface Session {
  page: Page;
  cspErrors: string[];
}

async function signedIn(key: string, width = 1280, landing = '/console'): Promise<Session> {
  const context = await browser.newContext({ viewport: { width, height: 800 } });
  contexts.push(context);
  const page = await context.newPage();
  const cspErrors: string[] = [];
  page.on('console', (msg) => {
    if (msg.text().includes('Content Security Policy')) cspErrors.push(msg.text());
  });
  await page.goto(`${api.url}/console`);
  expect(new URL(page.url()).pathname).toBe('/console/sign-in');
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${api.url}${landing}`);
  return { page, cspErrors };
}

async function axe(page: Page, name: string): Promise<void> {
  await page.evaluate(AXE);
  const result = (await page.evaluate(() =>
    // biome-ignore lint/suspicious/noExplicitAny: axe is injected above; the page's globals
    (globalThis as any).axe.run((globalThis as any).document, { resultTypes: ['violations'] }),
  )) as { violations: { id: string; impact: string; nodes: unknown[]; help: string }[] };
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${name}: ${v.id} (${v.impact}) ${v.help}`)).toEqual([]);
}

async function flash(page: Page): Promise<string> {
  return (await page.locator('.flash').first().textContent()) ?? '';
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `console-${name}.png`), fullPage: true });
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  redis = await startRedis();
  api = await liveApi(redis, ENV);
  ctx = createQueueContext(apiConfig(redis, ENV));
  const other = await submitBulk(
    ctx,
    ['b1@contoso.com', 'b2@contoso.com', 'b3@contoso.com'].map((user) => ({ user, reason: 'restructuring' })),
    { requestedBy: KEY_NAMES.producer, source: 'batch' },
  );
  const own = await submitBulk(
    ctx,
    ['s1@contoso.com', 's2@contoso.com', 's3@contoso.com'].map((user) => ({ user })),
    { requestedBy: KEY_NAMES.operator, source: 'cli' },
  );
  if (!other.held || !own.held) throw new Error('expected held batches');
  otherBatch = other.batch.id;
  ownBatch = own.batch.id;
  deadLetter = await seedDeadLetter(ctx, 'dl.user@contoso.com', 'retries_exhausted', { reason: HOSTILE });
  await enqueue(
    ctx,
    {
      user: 'hostile@contoso.com',
      reason: HOSTILE,
      effectiveAt: new Date(Date.now() + 3 * 86_400_000).toISOString(),
    },
    { requestedBy: KEY_NAMES.producer, source: 'api' },
  );
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await api?.close();
  if (ctx) await closeQueueContext(ctx);
  await redis?.stop();
});

describe('viewer', () => {
  it('sees the overview, dead letters and batches without any action control, and a forged POST is refused', async () => {
    const { page, cspErrors } = await signedIn(KEYS.viewer);
    await expect(page.getByRole('heading', { name: 'Overview' }).isVisible()).resolves.toBe(true);
    await expect(page.locator('svg[role=img]').count()).resolves.toBe(1);
    await shot(page, 'viewer-overview');
    await axe(page, 'viewer overview');
    for (const path of [
      '/console/dead-letters',
      `/console/batches/${otherBatch}`,
      '/console/lookup?q=hostile%40contoso.com',
    ]) {
      await page.goto(`${api.url}${path}`);
      const posts = await page
        .locator('form[method=post]')
        .evaluateAll((forms) => forms.map((f) => f.getAttribute('action')));
      expect(posts, path).toEqual(['/console/sign-out']);
      const buttons = await page.getByRole('button').allTextContents();
      expect(
        buttons.filter((b) => /approve|reject|redrive|discard|pause|resume|cancel|reschedule/i.test(b)),
        path,
      ).toEqual([]);
    }
    await shot(page, 'viewer-lookup');
    // A POST the page never offered, with the session's own valid CSRF token: still refused.
    const token = await page.locator('input[name=_csrf]').first().getAttribute('value');
    const forged = await page
      .context()
      .request.post(`${api.url}/console/dead-letters/${deadLetter}/redrive`, {
        form: { _csrf: token ?? '' },
      });
    expect(forged.status()).toBe(403);
    expect(await ctx.deadLetter.getJob(deadLetter)).toBeTruthy();
    const pause = await page.context().request.post(`${api.url}/console/queue/pause`, {
      form: { _csrf: token ?? '', reason: 'viewer' },
    });
    expect(pause.status()).toBe(403);
    expect(await ctx.retire.isPaused()).toBe(false);
    expect(cspErrors).toEqual([]);
  });

  it('renders hostile reason text inert: shown as text, never run', async () => {
    const { page } = await signedIn(KEYS.viewer);
    await page.goto(`${api.url}/console/lookup?q=hostile%40contoso.com`);
    await expect(page.getByText(HOSTILE).first().isVisible()).resolves.toBe(true);
    await page.goto(`${api.url}/console/dead-letters/${deadLetter}`);
    await expect(page.getByText(HOSTILE).first().isVisible()).resolves.toBe(true);
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.locator('img[src=x]').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
  });
});

describe('operators', () => {
  it('approves a batch submitted by another key and sees its jobs appear', async () => {
    const { page, cspErrors } = await signedIn(KEYS.operator2);
    await page.getByRole('link', { name: 'Held batches' }).click();
    await page.getByRole('link', { name: otherBatch }).click();
    await expect(page.getByText(`${KEY_NAMES.producer}`).first().isVisible()).resolves.toBe(true);
    await shot(page, 'operator-batch-held');
    await axe(page, 'batch page');
    await page.getByRole('button', { name: /Approve 3 users/ }).click();
    expect(await flash(page)).toContain(`Approved batch ${otherBatch}: 3 jobs enqueued`);
    const jobs = page.getByRole('table').filter({ hasText: 'b1@contoso.com' });
    await expect(jobs.isVisible()).resolves.toBe(true);
    for (const u of ['b1@contoso.com', 'b2@contoso.com', 'b3@contoso.com']) {
      expect(await ctx.retire.getDeduplicationJobId(u)).toBeTruthy();
      await expect(page.getByRole('row').filter({ hasText: u }).isVisible()).resolves.toBe(true);
    }
    await shot(page, 'operator-batch-approved');
    expect(cspErrors).toEqual([]);
  });

  it('refuses self-approval with a clear message', async () => {
    const { page } = await signedIn(KEYS.operator);
    await page.goto(`${api.url}/console/batches/${ownBatch}`);
    await expect(page.getByText('You (ops-alice) submitted this batch').isVisible()).resolves.toBe(true);
    await page.getByRole('button', { name: /Approve 3 users/ }).click();
    expect(await flash(page)).toContain('Refused by the two-person rule: you (ops-alice) submitted batch');
    expect(await ctx.retire.getDeduplicationJobId('s1@contoso.com')).toBeFalsy();
    await shot(page, 'operator-self-approval-refused');
  });

  it('redrives a dead letter and sees it leave the list', async () => {
    const { page } = await signedIn(KEYS.operator);
    await page.getByRole('link', { name: 'Dead letters' }).click();
    await page.getByLabel('Reason').selectOption('retries_exhausted');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect(page.getByRole('link', { name: deadLetter }).isVisible()).resolves.toBe(true);
    await shot(page, 'operator-dead-letters');
    await axe(page, 'dead letters');
    await page.getByRole('button', { name: `Redrive ${deadLetter} (dl.user@contoso.com)` }).click();
    expect(await flash(page)).toContain(`Redriven ${deadLetter}`);
    await expect(page.getByRole('link', { name: deadLetter }).count()).resolves.toBe(0);
    expect(await ctx.deadLetter.getJob(deadLetter)).toBeFalsy();
  });

  it('pauses with a reason and resumes; a POST without the CSRF token is refused', async () => {
    const { page } = await signedIn(KEYS.operator, 1024);
    await page.getByLabel('Reason for pausing').fill('credential rotation');
    await page.getByRole('button', { name: 'Pause the retire queue' }).click();
    expect(await flash(page)).toContain('Retire queue paused: credential rotation');
    expect(await ctx.retire.isPaused()).toBe(true);
    await shot(page, 'operator-paused');
    await axe(page, 'paused overview');
    const noToken = await page.context().request.post(`${api.url}/console/queue/resume`, { form: {} });
    expect(noToken.status()).toBe(403);
    expect(await ctx.retire.isPaused()).toBe(true);
    await page.getByRole('button', { name: 'Resume the retire queue' }).click();
    expect(await flash(page)).toContain('Retire queue resumed');
    expect(await ctx.retire.isPaused()).toBe(false);
  });

  it('is keyboard reachable: the first Tab lands on the skip link, and every control has a label', async () => {
    const { page } = await signedIn(KEYS.operator);
    await page.keyboard.press('Tab');
    expect(
      await page.evaluate(
        () =>
          (globalThis as unknown as { document: { activeElement: { textContent: string } | null } }).document
            .activeElement?.textContent,
      ),
    ).toBe('Skip to content');
    for (const path of ['/console', '/console/lookup?q=hostile%40contoso.com', '/console/dead-letters']) {
      await page.goto(`${api.url}${path}`);
      const unlabeled = await page.locator('input:not([type=hidden]), select, button').evaluateAll(
        (els) =>
          els.filter((e) => {
            const el = e as unknown as {
              labels?: ArrayLike<unknown> | null;
              getAttribute(n: string): string | null;
              textContent: string | null;
            };
            return (
              !(el.labels && el.labels.length > 0) &&
              !el.getAttribute('aria-label') &&
              !el.textContent?.trim()
            );
          }).length,
      );
      expect(unlabeled, path).toBe(0);
    }
    await page.goto(`${api.url}/console/lookup?q=hostile%40contoso.com`);
    await shot(page, 'operator-lookup');
    await axe(page, 'lookup');
  });
});

describe('producer', () => {
  it('lands on Submit leavers, checks a pasted file (nothing enqueued), then submits it (held above the threshold)', async () => {
    const { page, cspErrors } = await signedIn(KEYS.producer, 1280, '/console/submit');
    const navLinks = await page.locator('nav a').allTextContents();
    expect(navLinks).toEqual(['Submit leavers']);
    const before = await ctx.retire.getJobCounts();
    await page
      .getByLabel('Leavers (CSV)')
      .fill('user,reason\np1@contoso.com,left\np2@contoso.com,left\np3@contoso.com,left\nnope,bad');
    await page.getByRole('button', { name: 'Check (nothing is enqueued)' }).click();
    await expect(
      page.getByRole('heading', { name: 'Check: nothing was enqueued' }).isVisible(),
    ).resolves.toBe(true);
    expect(await page.locator('table').textContent()).toContain('5');
    await axe(page, 'submit check');
    await shot(page, 'producer-check');
    expect(await ctx.retire.getJobCounts()).toEqual(before);
    await page.getByRole('button', { name: 'Submit', exact: true }).click();
    const status = (await page.getByRole('status').first().textContent()) ?? '';
    const mine = (await listBatches(ctx, { state: 'held', limit: 100 })).filter(
      (b) => b.submittedBy === KEY_NAMES.producer && b.count === 3,
    );
    expect(mine).toHaveLength(1);
    expect(status).toContain(`Held for approval as batch ${mine[0]?.id}`);
    expect(await ctx.retire.getJobCounts()).toEqual(before);
    expect(cspErrors).toEqual([]);
  });
});
