// DEVICE_POLICY_FILE in the environment schema (src/config/schema.ts): the file is read and validated
// when the configuration loads, each of its problems one configuration issue (exit 2 with all of
// them), and the rules tying it to other variables: EVIDENCE_KEY when bypass codes are captured,
// API_KEYS naming only profiles the file has.
import { z } from 'zod';
import { readDevicePolicy } from './load.js';
import type { DevicePolicy } from './types.js';

/** The file named by DEVICE_POLICY_FILE (absolute, or relative to the working directory), validated. */
export const devicePolicyFile = () =>
  z.string().transform((raw, ctx): DevicePolicy => {
    const { policy, issues } = readDevicePolicy(raw);
    for (const issue of issues) {
      ctx.addIssue({
        code: 'custom',
        message: `DEVICE_POLICY_FILE (${raw}): ${issue}`,
        params: { whole: true },
      });
    }
    return policy ?? z.NEVER;
  });

/** An API key as far as these rules read it (src/config/api-keys.ts's ApiKeyEntry). */
interface KeyNames {
  name: string;
  devicePolicies?: string[];
}

interface PolicyEnv {
  DEVICE_POLICY_FILE?: DevicePolicy;
  EVIDENCE_KEY?: Buffer;
  API_KEYS?: KeyNames[];
  API_KEYS_FILE?: KeyNames[];
}

type Name = keyof PolicyEnv;

/** The cross-variable rules; `ok(name)` is false for a variable that already failed its own check. */
export function devicePolicyRules(
  env: PolicyEnv,
  ok: (name: Name) => boolean,
  issue: (message: string, name?: Name) => void,
): void {
  if (!ok('DEVICE_POLICY_FILE')) return;
  const policy = env.DEVICE_POLICY_FILE;
  const captures =
    policy !== undefined &&
    Object.values(policy.profiles).some((p) => p.rules.some((r) => r.captureActivationLockBypass));
  if (captures && env.EVIDENCE_KEY === undefined && ok('EVIDENCE_KEY')) {
    issue(
      'required when DEVICE_POLICY_FILE has a rule with captureActivationLockBypass (bypass codes are stored encrypted with it; openssl rand -base64 32)',
      'EVIDENCE_KEY',
    );
  }
  for (const source of ['API_KEYS', 'API_KEYS_FILE'] as const) {
    if (!ok(source)) continue;
    for (const key of env[source] ?? []) {
      const names = key.devicePolicies ?? [];
      if (names.length > 0 && !policy) {
        issue(`key "${key.name}" names device policy profiles but DEVICE_POLICY_FILE is not set`, source);
        continue;
      }
      for (const name of names) {
        // `*`: any profile of the file (api-keys.ts keeps it visible, since absent means the default only).
        if (name === '*') continue;
        if (policy && !Object.hasOwn(policy.profiles, name)) {
          issue(
            `key "${key.name}" names device policy profile "${name}", which DEVICE_POLICY_FILE does not have (profiles: ${Object.keys(policy.profiles).join(', ')})`,
            source,
          );
        }
      }
    }
  }
}
