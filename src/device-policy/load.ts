// Reads a device policy file (DEVICE_POLICY_FILE, `offboard policy check FILE`): YAML, or JSON when the
// name ends in .json, then its shape (shape.ts) and its meaning (lint.ts). Every problem is returned
// at once; a policy comes back only when there is none, so a loaded policy always plans every device.
import { readFileSync, statSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { DevicePolicyError } from './errors.js';
import { lintPolicy } from './lint.js';
import { checkShape } from './shape.js';
import type { DevicePolicy } from './types.js';

/** A policy is a few dozen rules; anything far larger is the wrong file. */
const MAX_BYTES = 1024 * 1024;

export interface PolicyReadResult {
  policy?: DevicePolicy;
  /** Path-style problems (`profiles.standard.rules[2].match.os: …`), or the file's own. */
  issues: string[];
}

function readText(file: string): string | { issue: string } {
  try {
    const size = statSync(file).size;
    if (size > MAX_BYTES) return { issue: `larger than ${MAX_BYTES} bytes (${size})` };
    return readFileSync(file, 'utf8');
  } catch (err) {
    return { issue: `cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
}

/** The parsed document, or its syntax problems (every one the parser reports). */
function parseText(text: string, json: boolean): { value: unknown } | { issues: string[] } {
  if (json) {
    try {
      return { value: JSON.parse(text) as unknown };
    } catch (err) {
      return { issues: [`not valid JSON: ${(err as Error).message}`] };
    }
  }
  // uniqueKeys: a key given twice is an error, not "the last one wins" (a second `default:` would
  // silently change which profile applies).
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return { issues: doc.errors.map((e) => `not valid YAML: ${e.message.split('\n')[0]}`) };
  }
  try {
    return { value: doc.toJS({ maxAliasCount: 50 }) as unknown };
  } catch (err) {
    return { issues: [`not valid YAML: ${(err as Error).message}`] };
  }
}

/** Validates an already-parsed policy document (the API and tests may hand one over directly). */
export function policyFromValue(value: unknown, source?: string): PolicyReadResult {
  const shape = checkShape(value);
  if (!shape.policy) return { issues: shape.issues };
  const issues = lintPolicy(shape.policy);
  if (issues.length > 0) return { issues };
  return { policy: source ? { ...shape.policy, source } : shape.policy, issues: [] };
}

/** Reads and validates `file`; never throws for a bad file (the problems are in `issues`). */
export function readDevicePolicy(file: string): PolicyReadResult {
  const text = readText(file);
  if (typeof text !== 'string') return { issues: [text.issue] };
  const parsed = parseText(text, /\.json$/i.test(file));
  if ('issues' in parsed) return { issues: parsed.issues };
  return policyFromValue(parsed.value, file);
}

/** The policy of `file`, or a DevicePolicyError listing every problem (exit 2). */
export function loadDevicePolicy(file: string): DevicePolicy {
  const { policy, issues } = readDevicePolicy(file);
  if (!policy) throw new DevicePolicyError(file, issues);
  return policy;
}
