// TENANTS_FILE: loading (YAML and JSON), every problem reported at once, and the wiring into the
// configuration (AZURE_TENANT_ID optional, credentials of the shared app, API key scopes).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { loadTenants, tenantSecret } from '../../src/tenants/load.js';
import { tenantKeys, tenantNames, tenantOf } from '../../src/tenants/registry.js';

const dir = mkdtempSync(join(tmpdir(), 'offboard-tenants-'));
let n = 0;
function file(text: string, ext = 'yaml'): string {
  const path = join(dir, `t${++n}.${ext}`);
  writeFileSync(path, text);
  return path;
}
const ID1 = '11111111-2222-3333-4444-555555555555';
const ID2 = '22222222-3333-4444-5555-666666666666';
const HASH = 'a'.repeat(64);

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('TENANTS_FILE loading', () => {
  it('reads YAML with every field, ids lower-cased, the secret kept out of the config', () => {
    const path = file(`tenants:
  - name: contoso
    id: ${ID1.toUpperCase()}
    rateLimit: 100/20s
    readRateLimit: 500/20s
    guard: { threshold: 20, twoPerson: true }
  - name: fabrikam
    id: ${ID2}
    clientId: app-fabrikam
    clientSecretEnv: OFFBOARD_TENANT_SECRET_FABRIKAM
`);
    const tenants = loadTenants(path, { env: { OFFBOARD_TENANT_SECRET_FABRIKAM: 's3cret-value' } });
    expect(tenants).toEqual([
      {
        name: 'contoso',
        id: ID1,
        rateLimit: { limit: 100, windowMs: 20_000 },
        readRateLimit: { limit: 500, windowMs: 20_000 },
        guard: { threshold: 20, twoPerson: true },
      },
      {
        name: 'fabrikam',
        id: ID2,
        clientId: 'app-fabrikam',
        clientSecretEnv: 'OFFBOARD_TENANT_SECRET_FABRIKAM',
      },
    ]);
    expect(JSON.stringify(tenants)).not.toContain('s3cret-value');
    expect(tenantSecret(tenants[1] as never)).toBe('s3cret-value');
  });

  it('reads JSON too', () => {
    const path = file(JSON.stringify({ tenants: [{ name: 'a1', id: ID1 }] }), 'json');
    expect(loadTenants(path)).toEqual([{ name: 'a1', id: ID1 }]);
  });

  it('reports every problem at once, naming the tenant and the field', () => {
    const path = file(`tenants:
  - name: Contoso_Bad
    id: not-a-guid
    rateLimit: fast
    colour: blue
  - name: dup
    id: ${ID1}
    clientSecretEnv: SECRET_WITHOUT_CLIENT
  - name: dup
    id: ${ID1}
    clientId: app
    clientSecretEnv: MISSING_SECRET
    certificatePath: /nonexistent/cert.pem
    guard: { threshold: -1, twoPerson: maybe, extra: 1 }
  - name: ok-one
    id: ${ID2}
    clientId: app2
`);
    const problems = problemsOf(() => loadTenants(path, { env: {} }));
    const text = problems.join('\n');
    expect(text).toContain('tenants[0] (Contoso_Bad): name: must be 1-63 of a-z 0-9 -');
    expect(text).toContain('tenants[0] (Contoso_Bad): id: must be the Entra tenant id (a GUID)');
    expect(text).toContain('tenants[0] (Contoso_Bad): rateLimit: expected N/duration such as 200/20s');
    expect(text).toContain('tenants[0] (Contoso_Bad): colour: unknown field');
    expect(text).toContain('tenants[1] (dup): clientSecretEnv: needs clientId');
    expect(text).toContain(
      'tenants[2] (dup): clientId: needs exactly one of clientSecretEnv or certificatePath',
    );
    expect(text).toContain(
      'tenants[2] (dup): clientSecretEnv: the variable MISSING_SECRET is not set or empty',
    );
    expect(text).toContain('tenants[2] (dup): certificatePath: no such file: /nonexistent/cert.pem');
    expect(text).toContain('tenants[2] (dup): guard.threshold: must be a whole number');
    expect(text).toContain('tenants[2] (dup): guard.twoPerson: must be true or false');
    expect(text).toContain('tenants[2] (dup): guard.extra: unknown field');
    expect(text).toContain(
      'tenants[3] (ok-one): clientId: needs exactly one of clientSecretEnv or certificatePath',
    );
    expect(text).toContain(
      'tenants[1] (dup): clientSecretEnv: the variable SECRET_WITHOUT_CLIENT is not set',
    );
    expect(problems.length).toBe(13);
  });

  it('finds duplicate names and ids across otherwise valid tenants', () => {
    const path = file(`tenants:
  - { name: a, id: ${ID1} }
  - { name: a, id: ${ID2} }
  - { name: b, id: ${ID1.toUpperCase()} }
`);
    expect(problemsOf(() => loadTenants(path))).toEqual([
      `TENANTS_FILE ${path}: tenants[1] (a): name "a" is also tenants[0]'s`,
      `TENANTS_FILE ${path}: tenants[2] (b): id ${ID1} is also tenants[0]'s`,
    ]);
  });

  it('refuses an unreadable file, a non-YAML file, an empty list and a devicePolicy the policy file lacks', () => {
    expect(problemsOf(() => loadTenants(join(dir, 'missing.yaml')))[0]).toMatch(
      /cannot read the file \(ENOENT\)/,
    );
    expect(problemsOf(() => loadTenants(file('tenants: [ {')))[0]).toMatch(/not YAML or JSON/);
    expect(problemsOf(() => loadTenants(file('tenants: []')))[0]).toMatch(/the tenants list is empty/);
    expect(problemsOf(() => loadTenants(file('other: 1')))[0]).toMatch(/expected a "tenants:" list/);
    const path = file(`tenants:\n  - { name: a, id: ${ID1}, devicePolicy: strict }\n`);
    const policy = { default: 'standard', profiles: { standard: { rules: [] } } };
    expect(problemsOf(() => loadTenants(path, { devicePolicy: policy }))).toEqual([
      `TENANTS_FILE ${path}: tenants[0] (a): devicePolicy: "strict" is not a profile of DEVICE_POLICY_FILE`,
    ]);
  });
});

describe('TENANTS_FILE in the configuration', () => {
  const two = () => file(`tenants:\n  - { name: contoso, id: ${ID1} }\n  - { name: fabrikam, id: ${ID2} }\n`);

  it('without the file: no tenants, AZURE_TENANT_ID still required by the worker', () => {
    const c = loadConfig({});
    expect(c.tenants).toBeUndefined();
    expect(tenantNames(c)).toEqual([]);
    expect(c.graph.globalRateLimit).toEqual({ limit: 130_000, windowMs: 10_000 });
    expect(
      problemsOf(() => loadConfig({ AZURE_CLIENT_ID: 'app', AZURE_CLIENT_SECRET: 'x' }, { needAuth: true })),
    ).toEqual(['AZURE_TENANT_ID: required']);
  });

  it('with the file: AZURE_TENANT_ID optional, tenants loaded and looked up by name', () => {
    const c = loadConfig(
      {
        TENANTS_FILE: two(),
        AZURE_CLIENT_ID: 'app',
        AZURE_CLIENT_SECRET: 'x',
        GRAPH_GLOBAL_RATE_LIMIT: '1000/1s',
      },
      { needAuth: true },
    );
    expect(tenantNames(c)).toEqual(['contoso', 'fabrikam']);
    expect(tenantOf(c, 'fabrikam')?.id).toBe(ID2);
    expect(tenantOf(c, 'nobody')).toBeUndefined();
    expect(c.graph.globalRateLimit).toEqual({ limit: 1000, windowMs: 1000 });
  });

  it("reports the file's problems with the environment's, and the shared app's missing credential", () => {
    const bad = file(`tenants:\n  - { name: contoso, id: nope }\n  - { name: fabrikam, id: ${ID2} }\n`);
    const problems = problemsOf(() =>
      loadConfig(
        { TENANTS_FILE: bad, WORKER_CONCURRENCY: 'ten', API_KEYS: `ops:operator:${HASH}:contoso|umbrella` },
        { needAuth: true },
      ),
    );
    expect(problems).toContain(
      `TENANTS_FILE ${bad}: tenants[0] (contoso): id: must be the Entra tenant id (a GUID)`,
    );
    expect(problems.some((p) => p.startsWith('WORKER_CONCURRENCY:'))).toBe(true);
    const ok = problemsOf(() =>
      loadConfig(
        { TENANTS_FILE: two(), API_KEYS: `ops:operator:${HASH}:contoso|umbrella` },
        { needAuth: true },
      ),
    );
    expect(ok.some((p) => p.includes('API key "ops": tenant "umbrella" is not in TENANTS_FILE'))).toBe(true);
    expect(
      ok.some((p) => p.includes("tenants contoso, fabrikam use the deployment's app: AZURE_CLIENT_ID")),
    ).toBe(true);
  });

  it('refuses a key scoped to tenants when there is no tenants file', () => {
    expect(problemsOf(() => loadConfig({ API_KEYS: `ops:operator:${HASH}:contoso` }))).toEqual([
      'API key "ops": scoped to tenants (contoso) but TENANTS_FILE is not set',
    ]);
  });

  it('per-tenant keys carry the tenant and share the prefix hash tag', () => {
    expect(tenantKeys.pacer('{offboard}', 'contoso')).toBe('{offboard}:offboard:tenant:contoso:pacer');
    expect(tenantKeys.circuit('{offboard}', 'a')).not.toBe(tenantKeys.circuit('{offboard}', 'b'));
  });
});
