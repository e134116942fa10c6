// The shape of a parsed device policy file: which keys exist where and what type each value has.
// Every problem is collected with its path (`profiles.standard.rules[2].match.os: …`; rules and
// actions are numbered from 1, as `offboard policy check` and the plan number them), so one run
// shows them all. What the rules mean together (ordering, personal wipes, platforms) is lint.ts's.
import { enumMembers } from '../graph/contract/load.js';
import { DEVICE_ACTIONS, type DeviceActionName, type WipeOptions } from '../interfaces.js';
import type { DevicePolicy, MatchValue, PolicyMatch, PolicyProfile, PolicyRule } from './types.js';

/** Profile names are slugs: API_KEYS names them after `:` and `|` (src/config/api-keys.ts). */
export const PROFILE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

const TOP_KEYS = ['default', 'profiles'] as const;
const PROFILE_KEYS = ['rules'] as const;
const RULE_KEYS = ['match', 'actions', 'wipe', 'captureActivationLockBypass', 'allowPersonalWipe'] as const;
const STRING_MATCH_KEYS = ['ownerType', 'os', 'enrollmentType', 'model', 'manufacturer'] as const;
const MATCH_KEYS = [...STRING_MATCH_KEYS, 'supervised'] as const;
/** The v1.0 `managedDevice: wipe` parameters (../shared/graph/v1.0-subset.json boundActions). */
const WIPE_TYPES = {
  keepEnrollmentData: 'boolean',
  keepUserData: 'boolean',
  macOsUnlockCode: 'string',
  persistEsimDataPlan: 'boolean',
} as const;
const MAX_RULES = 200;
const MAX_VALUE = 256;

/** The enum members a match key must be one of (compared case-insensitively); undefined = free text. */
function allowedValues(key: (typeof STRING_MATCH_KEYS)[number]): readonly string[] | undefined {
  const type =
    key === 'ownerType' ? 'managedDeviceOwnerType' : key === 'enrollmentType' ? 'deviceEnrollmentType' : '';
  if (!type) return undefined;
  return (enumMembers(type) ?? []).filter((m) => m !== 'unknownFutureValue');
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v);

class Collector {
  readonly issues: string[] = [];
  add(path: string, message: string): void {
    this.issues.push(path ? `${path}: ${message}` : message);
  }
  /** An object with only `known` keys; false (and an issue) when `v` is not an object. */
  object(v: unknown, path: string, known: readonly string[]): v is Obj {
    if (!isObj(v)) {
      this.add(path, `must be a mapping of ${known.join(', ')} (got ${kind(v)})`);
      return false;
    }
    for (const k of Object.keys(v)) {
      if (!known.includes(k)) this.add(join(path, k), `unknown key (expected one of ${known.join(', ')})`);
    }
    return true;
  }
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

function matchValue(
  c: Collector,
  v: unknown,
  path: string,
  allowed: readonly string[] | undefined,
): MatchValue<string> | undefined {
  const list = Array.isArray(v) ? v : [v];
  if (Array.isArray(v) && v.length === 0) {
    c.add(path, 'must not be an empty list (leave the key out to match any value)');
    return undefined;
  }
  let ok = true;
  for (const item of list) {
    if (typeof item !== 'string' || item.trim() === '' || item.length > MAX_VALUE) {
      c.add(path, `must be a text value or a list of them (got ${kind(item)})`);
      ok = false;
    } else if (allowed && !allowed.some((a) => a.toLowerCase() === item.toLowerCase())) {
      c.add(path, `"${item}" is not one of ${allowed.join(', ')}`);
      ok = false;
    }
  }
  if (!ok) return undefined;
  return Array.isArray(v) ? (v as string[]) : (v as string);
}

function match(c: Collector, v: unknown, path: string): PolicyMatch | undefined {
  if (!c.object(v, path, MATCH_KEYS)) return undefined;
  const out: PolicyMatch = {};
  let ok = true;
  for (const key of STRING_MATCH_KEYS) {
    if (v[key] === undefined) continue;
    const value = matchValue(c, v[key], join(path, key), allowedValues(key));
    if (value === undefined) ok = false;
    else out[key] = value;
  }
  if (v.supervised !== undefined) {
    if (typeof v.supervised === 'boolean') out.supervised = v.supervised;
    else {
      c.add(join(path, 'supervised'), `must be true or false (got ${kind(v.supervised)})`);
      ok = false;
    }
  }
  return ok ? out : undefined;
}

function actions(c: Collector, v: unknown, path: string): DeviceActionName[] | undefined {
  if (!Array.isArray(v) || v.length === 0) {
    c.add(path, `must be a non-empty list of ${DEVICE_ACTIONS.join(', ')} (got ${kind(v)})`);
    return undefined;
  }
  let ok = true;
  const seen = new Set<string>();
  v.forEach((a, i) => {
    const at = `${path}[${i + 1}]`;
    if (typeof a !== 'string' || !(DEVICE_ACTIONS as readonly string[]).includes(a)) {
      c.add(
        at,
        `${typeof a === 'string' ? `"${a}"` : kind(a)} is not an action (${DEVICE_ACTIONS.join(', ')})`,
      );
      ok = false;
    } else if (seen.has(a)) {
      c.add(at, `"${a}" is listed twice`);
      ok = false;
    } else seen.add(a);
  });
  return ok ? (v as DeviceActionName[]) : undefined;
}

function wipe(c: Collector, v: unknown, path: string): WipeOptions | undefined {
  if (!c.object(v, path, Object.keys(WIPE_TYPES))) return undefined;
  let ok = true;
  for (const [key, type] of Object.entries(WIPE_TYPES)) {
    const value = v[key];
    if (value === undefined) continue;
    if (typeof value !== type || (type === 'string' && (value as string).length > MAX_VALUE)) {
      c.add(
        join(path, key),
        `must be ${type === 'boolean' ? 'true or false' : 'a text value'} (got ${kind(value)})`,
      );
      ok = false;
    }
  }
  return ok ? (v as WipeOptions) : undefined;
}

function flag(c: Collector, rule: Obj, key: string, path: string): boolean | undefined {
  const v = rule[key];
  if (v === undefined || typeof v === 'boolean') return v;
  c.add(join(path, key), `must be true or false (got ${kind(v)})`);
  return undefined;
}

function rule(c: Collector, v: unknown, path: string): PolicyRule | undefined {
  if (!c.object(v, path, RULE_KEYS)) return undefined;
  const before = c.issues.length;
  if (v.match === undefined) c.add(join(path, 'match'), 'required (`match: {}` matches every device)');
  if (v.actions === undefined)
    c.add(join(path, 'actions'), `required (a list of ${DEVICE_ACTIONS.join(', ')})`);
  const m = v.match === undefined ? undefined : match(c, v.match, join(path, 'match'));
  const a = v.actions === undefined ? undefined : actions(c, v.actions, join(path, 'actions'));
  const w = v.wipe === undefined ? undefined : wipe(c, v.wipe, join(path, 'wipe'));
  const capture = flag(c, v, 'captureActivationLockBypass', path);
  const personal = flag(c, v, 'allowPersonalWipe', path);
  if (c.issues.length > before || !m || !a) return undefined;
  const out: PolicyRule = { match: m, actions: a };
  if (w) out.wipe = w;
  if (capture !== undefined) out.captureActivationLockBypass = capture;
  if (personal !== undefined) out.allowPersonalWipe = personal;
  return out;
}

function profile(c: Collector, v: unknown, path: string): PolicyProfile | undefined {
  if (!c.object(v, path, PROFILE_KEYS)) return undefined;
  const rules = v.rules;
  if (!Array.isArray(rules) || rules.length === 0) {
    c.add(join(path, 'rules'), `must be a non-empty list of rules (got ${kind(rules)})`);
    return undefined;
  }
  if (rules.length > MAX_RULES) {
    c.add(join(path, 'rules'), `at most ${MAX_RULES} rules (got ${rules.length})`);
    return undefined;
  }
  const out = rules.map((r, i) => rule(c, r, `${path}.rules[${i + 1}]`));
  return out.every((r) => r !== undefined) ? { rules: out as PolicyRule[] } : undefined;
}

/** The policy when the shape is right (issues empty), and every shape problem found. */
export function checkShape(raw: unknown): { policy?: DevicePolicy; issues: string[] } {
  const c = new Collector();
  if (!c.object(raw, '', TOP_KEYS)) return { issues: c.issues };
  const profiles: Record<string, PolicyProfile> = {};
  let ok = true;
  if (!isObj(raw.profiles) || Object.keys(raw.profiles).length === 0) {
    c.add(
      'profiles',
      `must be a mapping of profile names to profiles, at least one (got ${kind(raw.profiles)})`,
    );
    ok = false;
  } else {
    for (const [name, value] of Object.entries(raw.profiles)) {
      if (!PROFILE_NAME.test(name)) {
        c.add(`profiles.${name}`, 'a profile name is 1-63 of a-z 0-9 - (starting with a letter or digit)');
        ok = false;
        continue;
      }
      const p = profile(c, value, `profiles.${name}`);
      if (p) profiles[name] = p;
      else ok = false;
    }
  }
  const def = raw.default;
  if (typeof def !== 'string' || def === '') {
    c.add('default', `required: the name of the profile used when a request names none (got ${kind(def)})`);
    ok = false;
  } else if (isObj(raw.profiles) && !Object.hasOwn(raw.profiles, def)) {
    c.add(
      'default',
      `"${def}" is not a profile (profiles: ${Object.keys(raw.profiles).join(', ') || 'none'})`,
    );
    ok = false;
  }
  if (!ok || c.issues.length > 0) return { issues: c.issues };
  return { policy: { default: def as string, profiles }, issues: [] };
}
