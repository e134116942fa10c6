// `offboard policy check` and `offboard policy explain` as an operator runs them: the built CLI as a
// child process. check prints the rules (exit 0) or every problem (exit 2); explain reads a leaver's
// devices from the Graph simulator through the read pacer on a real Redis, prints each device's rule
// and actions, audits the look as `planned`, and sends nothing but GETs.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Explanation } from '../../src/cli/policy-explain.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { readAudit } from '../../src/records/audit.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { type Simulator, startTestSimulator } from '../helpers/sim.js';
import { json, runCli } from './run-cli.js';

const EXAMPLE = resolve('deploy/device-policy.example.yaml');
const LEAVER = 'leaver-mixed@contoso.test';
const dir = mkdtempSync(join(tmpdir(), 'offboard-policy-cli-'));
let sim: Simulator;
let redis: TestRedis;
let ctx: QueueContext;

const env = (extra: Record<string, string> = {}) => ({
  ...sim.env(),
  REDIS_URL: redis.url,
  QUEUE_PREFIX: redis.prefix,
  DEVICE_POLICY_FILE: EXAMPLE,
  // the example captures Activation Lock bypass codes: they are kept encrypted with this key
  EVIDENCE_KEY: randomBytes(32).toString('base64'),
  ...extra,
});

beforeAll(async () => {
  [sim, redis] = await Promise.all([startTestSimulator(), startRedis()]);
  ctx = createQueueContext(testConfig({ REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix }));
});

afterAll(async () => {
  if (ctx) await closeQueueContext(ctx);
  await Promise.all([sim?.close(), redis?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  sim.reset();
  sim.control({
    devices: {
      [LEAVER]: [
        {
          id: 'dev-iphone',
          deviceName: "Mia's iPhone",
          operatingSystem: 'iOS',
          managedDeviceOwnerType: 'personal',
          deviceEnrollmentType: 'appleUserEnrollment',
          isSupervised: false,
        },
        {
          id: 'dev-laptop',
          deviceName: 'DESKTOP-MIA01',
          operatingSystem: 'Windows',
          managedDeviceOwnerType: 'company',
          deviceEnrollmentType: 'windowsAzureADJoin',
          serialNumber: 'SN-MIA-01',
          isSupervised: false,
        },
        {
          id: 'dev-android',
          deviceName: 'Pixel 8_MIA',
          operatingSystem: 'Android',
          managedDeviceOwnerType: 'company',
          deviceEnrollmentType: 'unknown',
          isSupervised: false,
        },
      ],
    },
  });
});

describe('offboard policy check', () => {
  it('prints the rules of a valid file as a table and exits 0', async () => {
    const run = await runCli(['policy', 'check', EXAMPLE], {});
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${EXAMPLE}: valid, 2 profiles, default "standard"`);
    expect(lines[2]).toMatch(/^profile\s+#\s+match\s+actions\s+options$/);
    expect(lines[3]).toMatch(/^standard \(default\)\s+1\s+ownerType=personal\s+retire\s+-$/);
    expect(run.stdout).toMatch(
      /2\s+ownerType=company os=Windows\s+wipe\s+keepEnrollmentData=false keepUserData=false/,
    );
    expect(run.stdout).toMatch(
      /^dispose\s+1\s+ownerType=company os=Windows\s+wipe → delete → autopilot-deregister/m,
    );
    expect(run.stdout).toMatch(/\(every device\)\s+retire/);

    const out = json<{ ok: boolean; default: string; profiles: Record<string, { rules: unknown[] }> }>(
      await runCli(['policy', 'check', EXAMPLE, '--json'], {}),
    );
    expect(out.ok).toBe(true);
    expect(out.default).toBe('standard');
    expect(out.profiles.dispose?.rules).toHaveLength(3);
  });

  it('prints every problem of an invalid file, each on its own line with its path, and exits 2', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      `default: standard
profiles:
  standard:
    rules:
      - match: { ownerType: personal, os: Android }
        actions: [wipe]
        allowPersonalWipe: true
      - match: { ownerType: company, os: Windows }
        actions: [autopilot-deregister, delete]
        wipe: { keepUserData: false, eraseEverything: true }
`,
    );
    const run = await runCli(['policy', 'check', bad], {});
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(`offboard: device policy ${bad} is invalid (5 problems):`);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^ {2}- profiles\.standard\.rules\[2\]\.wipe\.eraseEverything: unknown key/),
      expect.stringMatching(
        /^ {2}- profiles\.standard\.rules\[1\]\.actions: Intune does not support wipe on Android/,
      ),
      expect.stringMatching(
        /^ {2}- profiles\.standard\.rules\[2\]\.actions: autopilot-deregister needs delete before it/,
      ),
      expect.stringMatching(
        /^ {2}- profiles\.standard\.rules\[2\]\.wipe: wipe options without the wipe action/,
      ),
      expect.stringMatching(/^ {2}- profiles\.standard\.rules: the last rule must match every device/),
    ]);
    expect(lines).toHaveLength(6);

    const asJson = await runCli(['policy', 'check', bad, '--json'], {});
    expect(asJson.code).toBe(2);
    expect(json<{ ok: boolean; issues: string[] }>(asJson)).toMatchObject({
      ok: false,
      issues: expect.any(Array),
    });
    expect(json<{ issues: string[] }>(asJson).issues).toHaveLength(5);

    const missing = await runCli(['policy', 'check', join(dir, 'nope.yaml')], {});
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the file \(ENOENT\)/);
  });
});

describe('offboard policy explain against the simulator', () => {
  it("prints each device's rule and actions under the default profile, reads only, and audits the look", async () => {
    const run = await runCli(['policy', 'explain', '--user', LEAVER, '--as', 'alice'], env());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe(`${LEAVER}: 3 devices under profile "standard" of ${EXAMPLE}`);
    expect(run.stdout).toMatch(/^device\s+os\s+owner\s+enrollment\s+supervised\s+rule\s+actions$/m);
    expect(run.stdout).toMatch(/^Mia's iPhone\s+iOS\s+personal\s+appleUserEnrollment\s+no\s+1\s+retire$/m);
    expect(run.stdout).toMatch(
      /^DESKTOP-MIA01\s+Windows\s+company\s+windowsAzureADJoin\s+no\s+2\s+wipe \(keepEnrollmentData=false, keepUserData=false\)$/m,
    );
    expect(run.stdout).toMatch(/^Pixel 8_MIA\s+Android\s+company\s+unknown\s+no\s+4\s+wipe$/m);
    expect(run.stdout).toContain('Nothing was sent to Intune');

    const stats = sim.stats({ log: false });
    expect(stats.requests.byMethod).toEqual({ GET: 1 });
    expect(stats.graph.calls).toBe(0);
    expect(stats.reads?.byUser[LEAVER]).toBe(1);

    const audit = await readAudit(ctx, { count: 10 });
    const planned = audit.filter((e) => e.type === 'planned');
    expect(planned).toHaveLength(1);
    expect(planned[0]).toMatchObject({
      actor: 'alice',
      user: LEAVER,
      details: { source: 'policy explain', profile: 'standard', devices: 3, actions: { retire: 1, wipe: 2 } },
    });
  });

  it('explains another profile as JSON, and sends no POST or DELETE', async () => {
    const out = json<Explanation>(
      await runCli(['policy', 'explain', '--user', LEAVER, '--device-policy', 'dispose', '--json'], env()),
    );
    expect(out.profile).toBe('dispose');
    expect(out.devices.map((d) => [d.deviceId, d.rule, d.actions.map((s) => s.action)])).toEqual([
      ['dev-iphone', 3, ['retire']],
      ['dev-laptop', 1, ['wipe', 'delete', 'autopilot-deregister']],
      ['dev-android', 2, ['wipe']],
    ]);
    expect(out.devices[0]).toMatchObject({
      deviceEnrollmentType: 'appleUserEnrollment',
      isSupervised: false,
    });
    expect(out.actions).toEqual({ retire: 1, wipe: 2, delete: 1, 'autopilot-deregister': 1 });
    const methods = sim.stats({ log: false }).requests.byMethod;
    expect(methods.POST ?? 0).toBe(0);
    expect(methods.DELETE ?? 0).toBe(0);
    expect(methods.GET).toBe(1);
  });

  it('refuses an unknown profile and a missing policy (exit 2) before reading anything', async () => {
    const unknown = await runCli(['policy', 'explain', '--user', LEAVER, '--device-policy', 'scrap'], env());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--device-policy: device policy profile "scrap" is not in/);
    const none = await runCli(['policy', 'explain', '--user', LEAVER], env({ DEVICE_POLICY_FILE: '' }));
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no device policy: set DEVICE_POLICY_FILE, or pass --file FILE/);
    expect(sim.stats({ log: false }).requests.byMethod).toEqual({});
  });

  it('tries a policy file given with --file instead of DEVICE_POLICY_FILE, and refuses a bad one', async () => {
    const keep = join(dir, 'keep.json');
    writeFileSync(
      keep,
      JSON.stringify({ default: 'keep', profiles: { keep: { rules: [{ match: {}, actions: ['none'] }] } } }),
    );
    const out = json<Explanation>(
      await runCli(['policy', 'explain', '--user', LEAVER, '--file', keep, '--json'], env()),
    );
    expect(out).toMatchObject({ profile: 'keep', source: keep, actions: {} });
    expect(out.devices.map((d) => d.actions)).toEqual([[], [], []]);

    const bad = join(dir, 'bad-explain.yaml');
    writeFileSync(
      bad,
      'default: a\nprofiles:\n  a:\n    rules:\n      - match: { os: iOS }\n        actions: [retire]\n',
    );
    const refused = await runCli(['policy', 'explain', '--user', LEAVER, '--file', bad], env());
    expect(refused.code).toBe(2);
    expect(refused.stderr.split('\n')[1]).toMatch(
      /^ {2}- profiles\.a\.rules: the last rule must match every device/,
    );
    expect(sim.stats({ log: false }).requests.byMethod).toEqual({ GET: 1 });
  });
});
