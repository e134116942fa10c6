// docker-compose.yml's promises: a durable Redis (AOF, noeviction, volume, health check), api and
// scalable workers from the Dockerfile, a demo profile, and credentials only from the env file.
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/config/parse.js';
import { configEnvNames, type Doc, isKnownSetting, repoFile, repoHas, yamlDocs } from './files.js';

const compose = yamlDocs('docker-compose.yml')[0] as Doc;
const services = compose.services as Record<string, Doc>;
const args = (cmd: unknown): string[] =>
  Array.isArray(cmd) ? cmd.map(String) : String(cmd ?? '').split(/\s+/);
const envOf = (svc: Doc): Record<string, string> =>
  Array.isArray(svc.environment)
    ? Object.fromEntries(svc.environment.map((e: string) => e.split(/=(.*)/s).slice(0, 2)))
    : (svc.environment ?? {});

describe('docker-compose.yml: redis', () => {
  const redis = services.redis as Doc;
  const cmd = args(redis.command);
  const flag = (name: string) => cmd[cmd.indexOf(name) + 1];

  it('persists with AOF and never evicts keys', () => {
    expect(cmd[0]).toBe('redis-server');
    expect(flag('--appendonly')).toBe('yes');
    expect(flag('--maxmemory-policy')).toBe('noeviction');
    expect(['everysec', 'always']).toContain(flag('--appendfsync'));
  });

  it('keeps its data in a named volume at /data and has a health check', () => {
    const mount = (redis.volumes as string[]).find((v) => v.endsWith(':/data'));
    const volume = mount?.split(':')[0] as string;
    expect(compose.volumes).toHaveProperty(volume);
    expect(redis.healthcheck?.test?.join(' ')).toMatch(/redis-cli ping/);
  });

  it('is not published on the host', () => {
    expect(redis.ports).toBeUndefined();
  });
});

describe('docker-compose.yml: api and worker', () => {
  it('both come from the Dockerfile and wait for a healthy Redis', () => {
    for (const name of ['api', 'worker']) {
      const svc = services[name] as Doc;
      const build = typeof svc.build === 'string' ? { context: svc.build } : svc.build;
      expect(build.context).toBe('.');
      expect(repoHas(build.dockerfile ?? 'Dockerfile')).toBe(true);
      expect(args(svc.command)).toEqual([name]);
      expect(svc.depends_on?.redis?.condition).toBe('service_healthy');
      expect(envOf(svc).REDIS_URL).toBe('redis://redis:6379');
    }
  });

  it('the worker can be scaled with --scale worker=N (no fixed name, no host ports)', () => {
    const worker = services.worker as Doc;
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
    expect(worker.deploy?.replicas === undefined || typeof worker.deploy.replicas === 'number').toBe(true);
  });

  it('gives a stopping worker longer than SHUTDOWN_TIMEOUT to drain', () => {
    const grace = parseDuration(String(services.worker.stop_grace_period)) as number;
    expect(grace).toBeGreaterThanOrEqual((parseDuration('60s') as number) + 10_000);
  });

  it('publishes the API port', () => {
    const ports = (services.api.ports as string[]).map(String);
    expect(ports.some((p) => p.endsWith(':8080'))).toBe(true);
  });

  it('takes credentials from the env file only', () => {
    for (const name of ['api', 'worker']) {
      const svc = services[name] as Doc;
      const files = (svc.env_file as (string | { path: string })[]).map((f) =>
        typeof f === 'string' ? f : f.path,
      );
      expect(files).toContain('.env');
      for (const key of Object.keys(envOf(svc))) {
        expect(key).not.toMatch(/SECRET|PASSWORD|TOKEN|API_KEYS|CERTIFICATE/);
      }
    }
  });

  it('runs hardened: read-only root, no capabilities, no privilege escalation', () => {
    for (const name of ['api', 'worker']) {
      const svc = services[name] as Doc;
      expect(svc.read_only).toBe(true);
      expect(svc.cap_drop).toContain('ALL');
      expect(svc.security_opt).toContain('no-new-privileges:true');
    }
  });
});

describe('docker-compose.yml: demo profile', () => {
  it('runs the whole pipeline against the Graph simulator, only when the profile is asked for', () => {
    const demo = Object.entries(services).filter(([, s]) => (s.profiles ?? []).includes('demo'));
    expect(demo.length).toBeGreaterThan(0);
    expect(demo.some(([, s]) => ['demo', 'simulate-graph'].includes(args(s.command)[0] as string))).toBe(
      true,
    );
    for (const name of ['redis', 'api', 'worker']) expect(services[name].profiles).toBeUndefined();
  });
});

describe('.env.example', () => {
  const text = repoFile('.env.example');
  const names = [...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1] as string);

  it('names only settings the configuration loader knows', () => {
    const known = configEnvNames();
    expect(names.length).toBeGreaterThan(8);
    expect(names.filter((n) => !isKnownSetting(n, known))).toEqual([]);
  });

  it('leaves every credential empty', () => {
    for (const line of text.split('\n').filter((l) => !l.startsWith('#'))) {
      const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
      if (m && /SECRET|PASSWORD|TOKEN_CACHE_KEY|EVIDENCE_KEY|API_KEYS$/.test(m[1] as string))
        expect(m[2], m[1]).toBe('');
    }
    expect(names).toContain('AZURE_CLIENT_SECRET');
  });
});
