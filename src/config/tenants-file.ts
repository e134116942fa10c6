// TENANTS_FILE: the customer tenants one deployment serves, read once at start (YAML or JSON: YAML is a
// superset of JSON, so one parser reads both) and validated as a whole: every problem is collected,
// each naming the tenant and the field, so an operator fixes the file in one pass (exit 2).
// Secrets never live in the file: a tenant names the environment variable holding its secret, which
// must be set (and non-empty) at load; the value is kept beside the config, never inside it.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { DevicePolicy } from '../device-policy/types.js';
import type { ApiKeyEntry } from './api-keys.js';
import { ConfigError } from './errors.js';
import { parseRate } from './parse.js';
import type { TenantConfig } from './tenant-config.js';

export const TENANT_SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CLIENT_ID = /^[A-Za-z0-9._-]{1,128}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const FIELDS = new Set([
  'name',
  'id',
  'clientId',
  'clientSecretEnv',
  'certificatePath',
  'rateLimit',
  'readRateLimit',
  'guard',
  'devicePolicy',
]);
const GUARD_FIELDS = new Set(['threshold', 'twoPerson']);

export interface TenantsLoadOptions {
  /** Where clientSecretEnv names are looked up. Default process.env. */
  env?: Record<string, string | undefined>;
  /** DEVICE_POLICY_FILE when configured: a tenant's devicePolicy must name one of its profiles. */
  devicePolicy?: DevicePolicy;
  /** API keys: every tenant a key is scoped to must exist in the file. */
  apiKeys?: ApiKeyEntry[];
}

/** Secrets read from clientSecretEnv at load, kept out of the TenantConfig objects (never logged). */
const secrets = new WeakMap<TenantConfig, string>();

/** The client secret of a tenant with its own app registration (clientSecretEnv), read at load. */
export function tenantSecret(tenant: TenantConfig): string | undefined {
  return secrets.get(tenant);
}

/** Loads and validates the file; throws ConfigError listing every problem. */
export function loadTenants(path: string, opts: TenantsLoadOptions = {}): TenantConfig[] {
  const problems: string[] = [];
  const tenants = readTenants(path, problems, opts);
  if (problems.length > 0) throw new ConfigError(problems);
  return tenants;
}

/** The same, collecting problems into `problems` (the config loader reports them with the rest). */
export function readTenants(path: string, problems: string[], opts: TenantsLoadOptions = {}): TenantConfig[] {
  const at = `TENANTS_FILE ${path}`;
  let text: string;
  let doc: unknown;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    problems.push(`${at}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return [];
  }
  try {
    doc = parseYaml(text);
  } catch (err) {
    problems.push(`${at}: not YAML or JSON (${(err as Error).message.split('\n')[0]})`);
    return [];
  }
  const list = (doc as { tenants?: unknown } | null)?.tenants;
  if (typeof doc !== 'object' || doc === null || !Array.isArray(list)) {
    problems.push(`${at}: expected a "tenants:" list`);
    return [];
  }
  for (const k of Object.keys(doc)) if (k !== 'tenants') problems.push(`${at}: unknown field "${k}"`);
  if (list.length === 0) problems.push(`${at}: the tenants list is empty`);
  const env = opts.env ?? process.env;
  const out: TenantConfig[] = [];
  const names = new Map<string, number>();
  const ids = new Map<string, number>();
  for (const [i, raw] of list.entries()) {
    const label =
      typeof (raw as { name?: unknown })?.name === 'string' ? ` (${(raw as { name: string }).name})` : '';
    const where = `${at}: tenants[${i}]${label}`;
    const t = checkTenant(raw, where, env, opts.devicePolicy, problems);
    if (!t) continue;
    const sameName = names.get(t.name);
    if (sameName !== undefined) problems.push(`${where}: name "${t.name}" is also tenants[${sameName}]'s`);
    else names.set(t.name, i);
    const sameId = ids.get(t.id);
    if (sameId !== undefined) problems.push(`${where}: id ${t.id} is also tenants[${sameId}]'s`);
    else ids.set(t.id, i);
    out.push(t);
  }
  for (const key of opts.apiKeys ?? []) {
    for (const name of key.tenants ?? []) {
      if (!names.has(name)) problems.push(`API key "${key.name}": tenant "${name}" is not in ${at}`);
    }
  }
  return out;
}

function checkTenant(
  raw: unknown,
  where: string,
  env: Record<string, string | undefined>,
  policy: DevicePolicy | undefined,
  problems: string[],
): TenantConfig | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push(`${where}: expected an object with name and id`);
    return null;
  }
  const r = raw as Record<string, unknown>;
  const before = problems.length;
  const bad = (field: string, msg: string) => problems.push(`${where}: ${field}: ${msg}`);
  for (const k of Object.keys(r)) if (!FIELDS.has(k)) bad(k, 'unknown field');
  if (typeof r.name !== 'string' || !TENANT_SLUG.test(r.name))
    bad('name', 'must be 1-63 of a-z 0-9 - (starting with a letter or digit)');
  if (typeof r.id !== 'string' || !GUID.test(r.id)) bad('id', 'must be the Entra tenant id (a GUID)');
  const tenant: TenantConfig = { name: String(r.name), id: String(r.id).toLowerCase() };

  // Credentials: the deployment's app (none given), or this tenant's app with exactly one credential.
  const own = ['clientSecretEnv', 'certificatePath'].filter((k) => r[k] !== undefined);
  if (r.clientId === undefined) {
    if (own.length > 0) bad(own.join(', '), 'needs clientId (the app registration it belongs to)');
  } else if (typeof r.clientId !== 'string' || !CLIENT_ID.test(r.clientId)) {
    bad('clientId', 'must be the application (client) id');
  } else {
    tenant.clientId = r.clientId;
    if (own.length !== 1) bad('clientId', 'needs exactly one of clientSecretEnv or certificatePath');
  }
  if (r.clientSecretEnv !== undefined) {
    const name = r.clientSecretEnv;
    if (typeof name !== 'string' || !ENV_NAME.test(name)) bad('clientSecretEnv', 'must be a variable name');
    else if (!env[name]) bad('clientSecretEnv', `the variable ${name} is not set or empty`);
    else {
      tenant.clientSecretEnv = name;
      secrets.set(tenant, env[name] as string);
    }
  }
  if (r.certificatePath !== undefined) {
    const p = r.certificatePath;
    if (typeof p !== 'string' || p === '') bad('certificatePath', 'must be a file path');
    else if (!existsSync(p) || !statSync(p).isFile()) bad('certificatePath', `no such file: ${p}`);
    else tenant.certificatePath = p;
  }

  for (const field of ['rateLimit', 'readRateLimit'] as const) {
    if (r[field] === undefined) continue;
    const rate = typeof r[field] === 'string' ? parseRate(r[field]) : null;
    if (!rate) bad(field, `expected N/duration such as 200/20s (got ${JSON.stringify(r[field])})`);
    else tenant[field] = rate;
  }
  if (r.guard !== undefined) {
    const g = r.guard as Record<string, unknown>;
    if (typeof g !== 'object' || g === null || Array.isArray(g))
      bad('guard', 'expected { threshold, twoPerson }');
    else {
      for (const k of Object.keys(g)) if (!GUARD_FIELDS.has(k)) bad(`guard.${k}`, 'unknown field');
      const guard: NonNullable<TenantConfig['guard']> = {};
      if (g.threshold !== undefined) {
        if (
          !Number.isInteger(g.threshold) ||
          (g.threshold as number) < 0 ||
          (g.threshold as number) > 1_000_000
        )
          bad('guard.threshold', 'must be a whole number from 0 to 1000000');
        else guard.threshold = g.threshold as number;
      }
      if (g.twoPerson !== undefined) {
        if (typeof g.twoPerson !== 'boolean') bad('guard.twoPerson', 'must be true or false');
        else guard.twoPerson = g.twoPerson;
      }
      tenant.guard = guard;
    }
  }
  if (r.devicePolicy !== undefined) {
    if (typeof r.devicePolicy !== 'string' || !TENANT_SLUG.test(r.devicePolicy))
      bad('devicePolicy', 'must be a profile name');
    else if (policy && !(r.devicePolicy in policy.profiles))
      bad('devicePolicy', `"${r.devicePolicy}" is not a profile of DEVICE_POLICY_FILE`);
    else tenant.devicePolicy = r.devicePolicy;
  }
  return problems.length === before ? tenant : null;
}
