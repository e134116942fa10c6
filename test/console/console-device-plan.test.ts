// The console's Check (Submit leavers, producer keys) under a device policy, in real headless
// Chromium against the API on loopback and the Graph simulator: each new leaver's devices are read
// (GETs, read pacer) and shown with the rule that matched and the actions, nothing is enqueued; a
// producer naming a profile its key may not use is refused (403) with the reason on the page.
import { randomBytes } from 'node:crypto';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApi, startApi } from '../../src/api/server.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { apiConfig, KEYS, memoryLogger } from '../api/helpers.js';
import { ensureChromium } from '../helpers/chromium.js';
import { TEST_POLICY } from '../helpers/device-policy.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startTestSimulator, type TestSimulator } from '../helpers/sim.js';

const CHROMIUM = ensureChromium();
let redis: TestRedis;
let sim: TestSimulator;
let api: RunningApi;
let ctx: QueueContext;
let browser: Browser;

beforeAll(async () => {
  redis = await startRedis();
  sim = await startTestSimulator();
  sim.control({
    devices: {
      'pat@contoso.com': [
        {
          id: 'd-1',
          deviceName: 'LAPTOP-7',
          operatingSystem: 'Windows',
          managedDeviceOwnerType: 'company',
          serialNumber: 'SN7',
        },
        { id: 'd-2', deviceName: 'Pat iPhone', operatingSystem: 'iOS', managedDeviceOwnerType: 'personal' },
      ],
    },
  });
  const config = apiConfig(redis, {
    ...(sim.env() as Record<string, string>),
    EVIDENCE: 'on',
    CONSOLE_SESSION_KEY: randomBytes(32).toString('base64'),
  });
  config.devicePolicy = TEST_POLICY;
  api = await startApi(config, { logger: memoryLogger('warn').logger });
  ctx = createQueueContext(config);
  browser = await chromium.launch({ executablePath: CHROMIUM });
});
afterAll(async () => {
  await browser?.close();
  await api?.close();
  if (ctx) await closeQueueContext(ctx);
  await sim?.close();
  await redis?.stop();
});

async function submitPage() {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${api.url}/console`);
  await page.getByLabel('API key').fill(KEYS.producer);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${api.url}/console/submit`);
  return page;
}

describe('console Check under a device policy', () => {
  it('shows each device with its rule and actions, and enqueues nothing', async () => {
    const page = await submitPage();
    await page.getByLabel('Leavers (CSV)').fill('user\npat@contoso.com\n');
    await page.getByRole('button', { name: 'Check (nothing is enqueued)' }).click();
    await page.getByRole('heading', { name: 'Devices and actions' }).waitFor();
    const rows = await page.locator('table[aria-labelledby="devices-h"] tbody tr').allInnerTexts();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(
      /pat@contoso\.com\s+standard\s+LAPTOP-7 \(Windows, company\)\s+SN7\s+standard#2\s+wipe \(keepEnrollmentData=false, keepUserData=false\)/,
    );
    expect(rows[1]).toMatch(/Pat iPhone \(iOS, personal\).*standard#1\s+retire/);
    expect(await ctx.retire.count()).toBe(0);
  });

  it('refuses a profile the producer key may not name (403), saying which it may', async () => {
    const page = await submitPage();
    await page.getByLabel('Leavers (CSV)').fill('user,devicePolicy\npat@contoso.com,dispose\n');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/console/submit') && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Check (nothing is enqueued)' }).click(),
    ]);
    expect(response.status()).toBe(403);
    await expect(page.getByRole('alert').textContent()).resolves.toContain(
      'may not name device policy profile "dispose"; it may name: standard',
    );
    expect(await ctx.retire.count()).toBe(0);
  });
});
