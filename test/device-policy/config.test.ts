// DEVICE_POLICY_FILE, EVIDENCE_KEY and GUARD_WIPE_THRESHOLD through the real configuration loader:
// the file's problems are configuration issues reported with every other one (exit 2), and the rules
// tying the file to EVIDENCE_KEY and API_KEYS hold.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'offboard-policy-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GOOD = join(dir, 'good.yaml');
writeFileSync(
  GOOD,
  `default: standard
profiles:
  standard:
    rules:
      - match: {}
        actions: [retire]
  dispose:
    rules:
      - match: { ownerType: company, os: Windows }
        actions: [wipe, delete, autopilot-deregister]
      - match: {}
        actions: [retire]
`,
);
const CAPTURE = join(dir, 'capture.yaml');
writeFileSync(
  CAPTURE,
  `default: s
profiles:
  s:
    rules:
      - match: { ownerType: company, os: iOS, supervised: true }
        actions: [wipe]
        captureActivationLockBypass: true
      - match: {}
        actions: [retire]
`,
);
const BAD = join(dir, 'bad.yaml');
writeFileSync(
  BAD,
  'default: x\nprofiles:\n  s:\n    rules:\n      - match: { os: iOS }\n        actions: [reset]\n',
);

function issues(env: Record<string, string>): string[] {
  try {
    loadConfig({ LOG_LEVEL: 'silent', ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}
const key = () => randomBytes(32).toString('base64');
const apiKey = (name: string, policies: string) =>
  `${name}:producer:${createHash('sha256').update(name).digest('hex')}::${policies}`;

describe('device policy configuration', () => {
  it('without DEVICE_POLICY_FILE there is no policy, and the wipe threshold is 10', () => {
    const cfg = loadConfig({ LOG_LEVEL: 'silent' });
    expect(cfg.devicePolicy).toBeUndefined();
    expect(cfg.evidence.key).toBeUndefined();
    expect(cfg.guard.wipeThreshold).toBe(10);
  });

  it('loads the file (absolute or relative to the working directory) with the other settings', () => {
    const k = key();
    const cfg = loadConfig({ DEVICE_POLICY_FILE: GOOD, GUARD_WIPE_THRESHOLD: '3', EVIDENCE_KEY: k });
    expect(cfg.devicePolicy?.default).toBe('standard');
    expect(Object.keys(cfg.devicePolicy?.profiles ?? {})).toEqual(['standard', 'dispose']);
    expect(cfg.guard.wipeThreshold).toBe(3);
    expect(cfg.evidence.key?.equals(Buffer.from(k, 'base64'))).toBe(true);
    const rel = relative(process.cwd(), GOOD);
    expect(loadConfig({ DEVICE_POLICY_FILE: rel }).devicePolicy?.source).toBe(rel);
  });

  it("reports the file's problems as configuration issues together with every other one", () => {
    const found = issues({ DEVICE_POLICY_FILE: BAD, GUARD_WIPE_THRESHOLD: '0', EVIDENCE_KEY: 'short' });
    expect(found).toEqual(
      expect.arrayContaining([
        `DEVICE_POLICY_FILE (${BAD}): profiles.s.rules[1].actions[1]: "reset" is not an action (retire, wipe, delete, autopilot-deregister, none)`,
        `DEVICE_POLICY_FILE (${BAD}): default: "x" is not a profile (profiles: s)`,
        'GUARD_WIPE_THRESHOLD: must be a whole number from 1 to 1000000 (got "0")',
        'EVIDENCE_KEY: must be 32 random bytes, base64-encoded (openssl rand -base64 32)',
      ]),
    );
    expect(found).toHaveLength(4);
    expect(found.join('\n')).not.toContain('short');
    expect(issues({ DEVICE_POLICY_FILE: join(dir, 'none.yaml') })).toEqual([
      `DEVICE_POLICY_FILE (${join(dir, 'none.yaml')}): cannot read the file (ENOENT)`,
    ]);
  });

  it('requires EVIDENCE_KEY when a rule captures Activation Lock bypass codes', () => {
    expect(issues({ DEVICE_POLICY_FILE: CAPTURE })).toEqual([
      expect.stringMatching(
        /^EVIDENCE_KEY: required when DEVICE_POLICY_FILE has a rule with captureActivationLockBypass/,
      ),
    ]);
    expect(issues({ DEVICE_POLICY_FILE: CAPTURE, EVIDENCE_KEY: key() })).toEqual([]);
  });

  it('refuses API keys naming profiles the file does not have, or any profile without a file', () => {
    expect(issues({ DEVICE_POLICY_FILE: GOOD, API_KEYS: apiKey('hr', 'dispose') })).toEqual([]);
    expect(issues({ DEVICE_POLICY_FILE: GOOD, API_KEYS: apiKey('hr', 'dispose|scrap') })).toEqual([
      'API_KEYS: key "hr" names device policy profile "scrap", which DEVICE_POLICY_FILE does not have (profiles: standard, dispose)',
    ]);
    expect(issues({ API_KEYS: apiKey('hr', 'dispose') })).toEqual([
      'API_KEYS: key "hr" names device policy profiles but DEVICE_POLICY_FILE is not set',
    ]);
  });
});
