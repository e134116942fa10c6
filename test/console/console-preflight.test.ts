// The go-live checks panel on the console overview, in real headless Chromium against the Graph +
// Entra simulator: an operator runs the checks from the page and reads one row per check with its
// fix; a viewer sees only whether the last run passed, gets no button, and a forged run is refused.
// Screenshots go to test-artifacts/console-preflight-*.png.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApi } from '../../src/api/server.js';
import { PERMISSIONS } from '../../src/sim/tokens.js';
import { KEY_NAMES, KEYS, liveApi } from '../api/helpers.js';
import { ensureChromium } from '../helpers/chromium.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { type Simulator, startTestSimulator } from '../helpers/sim.js';

const CHROMIUM = ensureChromium();
const ARTIFACTS = join(process.cwd(), 'test-artifacts');

let sim: Simulator;
let redis: TestRedis;
let api: RunningApi;
let browser: Browser;
const contexts: BrowserContext[] = [];

async function signedIn(key: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${api.url}/console/sign-in`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${api.url}/console`);
  return page;
}

const panel = (page: Page) => page.locator('section#preflight');

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  [sim, redis] = await Promise.all([startTestSimulator(), startRedis({ appendonly: true })]);
  sim.control({ users: { upsert: [{ userPrincipalName: 'test.leaver@offboard-sim.onmicrosoft.com' }] } });
  api = await liveApi(redis, sim.env());
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await api?.close();
  await Promise.all([sim?.close(), redis?.stop()]);
});

describe('console overview: go-live checks panel', () => {
  it('lets an operator run the checks and shows each one with its result and fix', async () => {
    const page = await signedIn(KEYS.operator);
    await expect(
      panel(page)
        .getByRole('heading', { name: /Go-live checks/ })
        .isVisible(),
    ).resolves.toBe(true);
    await expect(panel(page).getByText('Not run yet').isVisible()).resolves.toBe(true);

    sim.control({ permissions: { deny: [PERMISSIONS.readDevices] } });
    await panel(page).getByRole('button', { name: 'Run the go-live checks' }).click();
    await page.waitForURL(`${api.url}/console#preflight`);
    expect(await page.locator('.flash').first().textContent()).toMatch(/Go-live checks: 2 failed/);
    const rows = panel(page).locator('tbody tr');
    expect(await rows.count()).toBe(9);
    const permissions = panel(page).locator('tbody tr', { hasText: 'permissions' });
    expect(await permissions.textContent()).toContain('failed');
    expect(await permissions.textContent()).toContain(PERMISSIONS.readDevices);
    expect(await permissions.textContent()).toMatch(/grant admin consent/);
    await expect(panel(page).getByText('Not ready').isVisible()).resolves.toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'console-preflight-failed.png'), fullPage: true });

    sim.control({ permissions: { grant: [PERMISSIONS.readDevices] } });
    await panel(page).getByRole('button', { name: 'Run the go-live checks' }).click();
    await page.waitForURL(`${api.url}/console#preflight`);
    expect(await page.locator('.flash').first().textContent()).toMatch(/Go-live checks passed/);
    expect(await panel(page).locator('tbody td.bad').count()).toBe(0);
    await expect(panel(page).getByText(/Ready/).first().isVisible()).resolves.toBe(true);
    expect(await panel(page).textContent()).toContain(`by ${KEY_NAMES.operator}`);
    // Only GETs reached Graph, and no retire call.
    const stats = sim.stats({ log: false });
    expect(Object.keys(stats.requests.byMethod)).toEqual(['GET']);
    expect(stats.graph.calls).toBe(0);
  });

  it("shows a viewer the last run's verdict only: no table, no button; a forged run is refused", async () => {
    const page = await signedIn(KEYS.viewer);
    await expect(
      panel(page)
        .getByText(/last run/)
        .isVisible(),
    ).resolves.toBe(true);
    expect(await panel(page).locator('table').count()).toBe(0);
    expect(await panel(page).getByRole('button').count()).toBe(0);
    const before = sim.stats({ log: false }).token.requests;
    const token = await page.locator('input[name=_csrf]').first().getAttribute('value');
    const forged = await page.context().request.post(`${api.url}/console/preflight`, {
      form: { _csrf: token ?? '' },
    });
    expect(forged.status()).toBe(403);
    expect(sim.stats({ log: false }).token.requests).toBe(before);
  });
});
