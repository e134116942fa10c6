// deploy/kubernetes: probes, drain time, resources, disruption budgets, non-root pods, secrets only by
// reference, workload identity, and a KEDA trigger on the right BullMQ key — the key and what KEDA's
// count includes are checked against a real Redis with real BullMQ jobs.
import { QueueKeys, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { parseDuration } from '../../src/config/parse.js';
import { pauseQueue, resumeQueue } from '../../src/control/queue-control.js';
import { enqueue } from '../../src/intake/enqueue.js';
import { closeQueueContext, createQueueContext, type QueueContext } from '../../src/queue/context.js';
import { RETIRE_QUEUE } from '../../src/queue/names.js';
import { createRedis } from '../../src/redis/connection.js';
import { testConfig } from '../helpers/config.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { type Doc, filesUnder, repoFile, yamlDocs } from './files.js';

const DIR = 'deploy/kubernetes';
// The base's own manifests; optional kustomize components (components/<name>/) are checked apart.
const manifests = filesUnder(DIR).filter(
  (f) => f.endsWith('.yaml') && !f.endsWith('kustomization.yaml') && !f.startsWith(`${DIR}/components/`),
);
const docs: Doc[] = manifests.flatMap((f) => yamlDocs(f));
const kustomization = yamlDocs(`${DIR}/kustomization.yaml`)[0] as Doc;
const find = (kind: string, name: string): Doc => {
  const d = docs.find((x) => x.kind === kind && x.metadata?.name === name);
  if (!d) throw new Error(`${kind}/${name} missing from ${DIR}`);
  return d;
};
const api = find('Deployment', 'offboard-api');
const worker = find('Deployment', 'offboard-worker');
const configMap = find('ConfigMap', 'offboard-config');
const scaledObject = find('ScaledObject', 'offboard-worker');
const container = (d: Doc, name: string): Doc =>
  d.spec.template.spec.containers.find((c: Doc) => c.name === name);
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);
const setting = (name: string, def: string) => String(configMap.data?.[name] ?? def);

describe('kustomization', () => {
  it('lists every manifest, and only existing ones', () => {
    const listed = (kustomization.resources as string[]).map((r) => `${DIR}/${r}`).sort();
    expect(listed).toEqual(manifests);
  });

  it('retags the `offboard` image used by every container', () => {
    expect((kustomization.images as Doc[]).map((i) => i.name)).toContain('offboard');
    for (const d of [api, worker])
      for (const c of d.spec.template.spec.containers) expect(c.image).toBe('offboard');
  });
});

describe('api Deployment', () => {
  const c = container(api, 'api');
  it('probes /healthz for liveness and /readyz for readiness on the served port', () => {
    const port = c.ports.find((p: Doc) => p.name === 'http');
    expect(port.containerPort).toBe(Number(setting('API_PORT', '8080')));
    expect(c.livenessProbe.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe.httpGet).toMatchObject({ path: '/readyz', port: 'http' });
    expect(c.startupProbe.httpGet.path).toBe('/healthz');
    expect(c.args).toEqual(['api']);
  });

  it('is reachable through a Service that selects its pods', () => {
    const svc = find('Service', 'offboard-api');
    expect(matches(svc.spec.selector, api.spec.template.metadata.labels)).toBe(true);
    expect(svc.spec.ports[0].targetPort).toBe('http');
  });

  it('reads API keys from a mounted Secret file', () => {
    const env = c.env.find((e: Doc) => e.name === 'API_KEYS_FILE');
    const volume = api.spec.template.spec.volumes.find((v: Doc) => v.secret);
    const mount = c.volumeMounts.find((m: Doc) => m.name === volume.name);
    expect(env.value.startsWith(`${mount.mountPath}/`)).toBe(true);
  });
});

describe('worker Deployment', () => {
  const c = container(worker, 'worker');
  it('has an exec liveness probe running the health check shipped in the image (no HTTP on workers)', () => {
    expect(c.livenessProbe.exec.command.slice(0, 3)).toEqual([
      'node',
      '/app/deploy/healthcheck.mjs',
      'worker',
    ]);
    expect(c.livenessProbe.timeoutSeconds).toBeGreaterThanOrEqual(5);
    expect(c.readinessProbe).toBeUndefined();
    expect(repoFile('Dockerfile')).toMatch(/COPY deploy\/healthcheck\.mjs \.\/deploy\/healthcheck\.mjs/);
    expect(c.args).toEqual(['worker']);
  });

  it('gets a SIGTERM grace period longer than the drain it does (SHUTDOWN_TIMEOUT > GRAPH_TIMEOUT)', () => {
    const graph = parseDuration(setting('GRAPH_TIMEOUT', '30s')) as number;
    const shutdown = parseDuration(setting('SHUTDOWN_TIMEOUT', '60s')) as number;
    const grace = worker.spec.template.spec.terminationGracePeriodSeconds * 1000;
    expect(shutdown).toBeGreaterThan(graph);
    expect(grace).toBeGreaterThanOrEqual(graph + 10_000);
    expect(grace).toBeGreaterThanOrEqual(shutdown + 10_000);
  });

  it('leaves the replica count to KEDA', () => {
    expect(worker.spec.replicas).toBeUndefined();
    expect(scaledObject.spec.scaleTargetRef.name).toBe(worker.metadata.name);
  });
});

describe('every pod', () => {
  it('requests resources, bounds memory and runs as a non-root user without privileges', () => {
    for (const d of [api, worker]) {
      const pod = d.spec.template.spec;
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      for (const c of pod.containers) {
        expect(c.resources.requests.cpu).toBeTruthy();
        expect(c.resources.requests.memory).toBeTruthy();
        expect(c.resources.limits.memory).toBeTruthy();
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
  });

  it('is covered by a PodDisruptionBudget', () => {
    const pdbs = docs.filter((d) => d.kind === 'PodDisruptionBudget');
    for (const d of [api, worker]) {
      const labels = d.spec.template.metadata.labels;
      expect(
        pdbs.some((p) => matches(p.spec.selector.matchLabels, labels)),
        d.metadata.name,
      ).toBe(true);
    }
  });

  it('gets secrets only by reference, never inline', () => {
    expect(docs.filter((d) => d.kind === 'Secret')).toEqual([]);
    for (const key of Object.keys(configMap.data)) expect(key).not.toMatch(/SECRET|PASSWORD|TOKEN|KEY/);
    for (const d of [api, worker]) {
      for (const c of d.spec.template.spec.containers) {
        for (const e of c.env ?? []) {
          if (/SECRET|PASSWORD|TOKEN|REDIS_URL|API_KEYS$/.test(e.name)) {
            expect(e.value, e.name).toBeUndefined();
            expect(e.valueFrom?.secretKeyRef?.name, e.name).toBeTruthy();
          }
        }
        for (const from of c.envFrom ?? []) expect(from.configMapRef ?? from.secretRef).toBeTruthy();
      }
    }
  });
});

describe('workload identity', () => {
  it('worker pods opt in and run under the annotated service account', () => {
    const sa = find('ServiceAccount', worker.spec.template.spec.serviceAccountName);
    expect(sa.metadata.annotations['azure.workload.identity/client-id']).toBeTruthy();
    expect(worker.spec.template.metadata.labels['azure.workload.identity/use']).toBe('true');
  });

  it('the env names the webhook injects configure a federated credential unchanged', () => {
    const config = loadConfig(
      {
        AZURE_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
        AZURE_TENANT_ID: '66666666-7777-8888-9999-000000000000',
        AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/tokens/azure-identity-token',
        // The webhook injects the authority with a trailing slash.
        AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.com/',
        REDIS_URL: 'redis://redis:6379',
        LOG_LEVEL: 'silent',
      },
      { needAuth: true },
    );
    expect(config.auth.credential).toEqual({
      kind: 'federated',
      tokenFile: '/var/run/secrets/azure/tokens/azure-identity-token',
    });
    expect(config.auth.authorityHost).toBe('https://login.microsoftonline.com');
  });
});

describe('KEDA ScaledObject', () => {
  const triggers = scaledObject.spec.triggers as Doc[];
  const prefix = setting('QUEUE_PREFIX', 'offboard');

  it('scales on the BullMQ wait list of the retire queue, never to zero', () => {
    const wait = triggers.find((t) => t.metadata.listName.endsWith(':wait'));
    expect(['redis', 'redis-cluster']).toContain(wait?.type);
    expect(wait?.metadata.listName).toBe(new QueueKeys(prefix).toKey(RETIRE_QUEUE, 'wait'));
    expect(Number(wait?.metadata.listLength)).toBeGreaterThan(0);
    // Delayed jobs are promoted only by a running worker: with zero workers nothing would ever scale up.
    expect(scaledObject.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    expect(scaledObject.spec.maxReplicaCount).toBeGreaterThanOrEqual(scaledObject.spec.minReplicaCount);
  });

  it('authenticates through a TriggerAuthentication that points at a Secret', () => {
    for (const t of triggers) {
      expect(t.metadata.password).toBeUndefined();
      const auth = find('TriggerAuthentication', t.authenticationRef.name);
      expect(auth.spec.secretTargetRef[0]).toMatchObject({ parameter: 'password', name: expect.any(String) });
    }
  });

  it('documents the keys it reads and what it undercounts', () => {
    const text = repoFile(`${DIR}/keda.yaml`);
    for (const word of [
      ':retire:wait',
      ':retire:active',
      ':retire:delayed',
      'prioritized',
      'paused',
      'undercount',
    ]) {
      expect(text).toContain(word);
    }
  });
});

// KEDA's redis scaler runs this script on `listName` (kedacore/keda pkg/scalers/redis_scaler.go).
const KEDA_LIST_LENGTH = `
  local listName = KEYS[1]
  local listType = redis.call('type', listName).ok
  local cmd = { zset = 'zcard', set = 'scard', list = 'llen', hash = 'hlen', none = 'llen' }
  return redis.call(cmd[listType], listName)
`;

describe('what KEDA sees in a real Redis', () => {
  let redis: TestRedis;
  let ctx: QueueContext;
  const listName = (suffix: string) => {
    const t = (scaledObject.spec.triggers as Doc[]).find((x) => x.metadata.listName.endsWith(`:${suffix}`));
    // Same key layout under this test's private prefix.
    return `${ctx.prefix}${(t.metadata.listName as string).slice(setting('QUEUE_PREFIX', 'offboard').length)}`;
  };
  const kedaCount = async (suffix: string) =>
    Number(await ctx.redis.eval(KEDA_LIST_LENGTH, 1, listName(suffix)));

  beforeAll(async () => {
    redis = await startRedis();
    ctx = createQueueContext(testConfig({ REDIS_URL: redis.url, QUEUE_PREFIX: `${redis.prefix}keda` }));
  });
  afterAll(async () => {
    if (ctx) await closeQueueContext(ctx);
    await redis?.stop();
  });

  it('counts ready jobs, not future-dated ones, and still counts them while paused', async () => {
    const meta = { requestedBy: 'keda-test', source: 'cli' as const };
    for (const user of ['a@contoso.com', 'b@contoso.com', 'c@contoso.com'])
      await enqueue(ctx, { user }, meta);
    await enqueue(ctx, { user: 'later@contoso.com', effectiveAt: new Date(Date.now() + 86_400_000) }, meta);
    expect(await ctx.retire.getWaitingCount()).toBe(3);
    expect(await ctx.retire.getDelayedCount()).toBe(1);
    expect(await kedaCount('wait')).toBe(3); // the delayed job is the documented undercount

    await pauseQueue(ctx, 'keda-test');
    expect(await kedaCount('wait')).toBe(3); // BullMQ 6 keeps paused jobs in `wait`
    await resumeQueue(ctx, 'keda-test');
  });

  it('counts jobs in flight on the active list', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const connection = createRedis(ctx.config.redis, { blocking: true });
    const w = new Worker(RETIRE_QUEUE, () => gate, { connection, prefix: ctx.prefix, concurrency: 5 });
    w.on('error', () => {});
    try {
      const deadline = Date.now() + 20_000;
      while ((await kedaCount('active')) < 3) {
        if (Date.now() > deadline) throw new Error('jobs never became active');
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await kedaCount('active')).toBe(3);
      expect(await kedaCount('wait')).toBe(0);
    } finally {
      release();
      await w.close();
      connection.disconnect();
    }
  });
});
