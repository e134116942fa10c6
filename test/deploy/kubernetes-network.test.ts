// deploy/kubernetes network and monitoring: the NetworkPolicies, evaluated as Kubernetes would for the
// traffic that matters (who may reach the API, that nothing reaches a worker, where pods may connect),
// no service-account token in worker pods, and the optional monitoring component (ServiceMonitor that
// scrapes the real Service port with a viewer key, PrometheusRule equal to the alert rules file).
import { describe, expect, it } from 'vitest';
import { type Doc, filesUnder, repoHas, yamlDocs } from './files.js';

const DIR = 'deploy/kubernetes';
const COMPONENT = `${DIR}/components/monitoring`;
const docsOf = (files: string[]) => files.flatMap((f) => yamlDocs(f));
const base = docsOf(
  filesUnder(DIR).filter(
    (f) => f.endsWith('.yaml') && !f.endsWith('kustomization.yaml') && !f.startsWith(`${DIR}/components/`),
  ),
);
const componentFiles = filesUnder(COMPONENT).filter((f) => !f.endsWith('kustomization.yaml'));
const component = docsOf(componentFiles);
const find = (docs: Doc[], kind: string, name: string): Doc => {
  const d = docs.find((x) => x.kind === kind && x.metadata?.name === name);
  if (!d) throw new Error(`${kind}/${name} missing`);
  return d;
};
const api = find(base, 'Deployment', 'offboard-api');
const worker = find(base, 'Deployment', 'offboard-worker');
const podLabels = (d: Doc): Record<string, string> => d.spec.template.metadata.labels;
const apiPorts = new Map<string, number>(
  api.spec.template.spec.containers[0].ports.map((p: Doc) => [p.name, p.containerPort]),
);

type Labels = Record<string, string>;
interface Peer {
  namespace: Labels;
  pod: Labels;
}
const selects = (sel: Doc | undefined, labels: Labels) =>
  Object.entries((sel?.matchLabels ?? {}) as Labels).every(([k, v]) => labels[k] === v) &&
  !(sel?.matchExpressions?.length > 0);
// A peer entry with both selectors means "pods matching podSelector in namespaces matching
// namespaceSelector"; with only podSelector, pods of the policy's own namespace.
const OWN_NS: Labels = { 'kubernetes.io/metadata.name': 'offboard' };
const peerMatches = (entry: Doc, peer: Peer) =>
  !entry.ipBlock &&
  (entry.namespaceSelector
    ? selects(entry.namespaceSelector, peer.namespace)
    : selects({ matchLabels: OWN_NS }, peer.namespace)) &&
  (entry.podSelector ? selects(entry.podSelector, peer.pod) : true);
const portMatches = (ports: Doc[] | undefined, port: number, protocol: string) =>
  !ports ||
  ports.some((p) => (p.protocol ?? 'TCP') === protocol && (p.port === port || apiPorts.get(p.port) === port));

function policiesFor(docs: Doc[], labels: Labels, type: 'Ingress' | 'Egress'): Doc[] {
  return docs.filter(
    (d) =>
      d.kind === 'NetworkPolicy' && selects(d.spec.podSelector, labels) && d.spec.policyTypes?.includes(type),
  );
}

/** Kubernetes' rule: isolated by any selecting policy, then allowed if any rule of any of them allows. */
function ingressAllowed(docs: Doc[], to: Labels, from: Peer, port: number, protocol = 'TCP'): boolean {
  const ps = policiesFor(docs, to, 'Ingress');
  if (ps.length === 0) return true;
  return ps.some((p) =>
    (p.spec.ingress ?? []).some(
      (r: Doc) =>
        (!r.from || r.from.some((e: Doc) => peerMatches(e, from))) && portMatches(r.ports, port, protocol),
    ),
  );
}

function egressAllowed(
  docs: Doc[],
  from: Labels,
  to: Peer | 'outside',
  port: number,
  protocol = 'TCP',
): boolean {
  const ps = policiesFor(docs, from, 'Egress');
  if (ps.length === 0) return true;
  return ps.some((p) =>
    (p.spec.egress ?? []).some(
      (r: Doc) =>
        (!r.to || (to !== 'outside' && r.to.some((e: Doc) => peerMatches(e, to)))) &&
        portMatches(r.ports, port, protocol),
    ),
  );
}

const ingressController: Peer = {
  namespace: { 'kubernetes.io/metadata.name': 'ingress-nginx' },
  pod: { 'app.kubernetes.io/name': 'ingress-nginx' },
};
const prometheus: Peer = {
  namespace: { 'kubernetes.io/metadata.name': 'monitoring' },
  pod: { 'app.kubernetes.io/name': 'prometheus' },
};
const coreDns: Peer = {
  namespace: { 'kubernetes.io/metadata.name': 'kube-system' },
  pod: { 'k8s-app': 'kube-dns' },
};
const samePodNs = (pod: Labels): Peer => ({ namespace: OWN_NS, pod });
const apiPort = apiPorts.get('http') as number;

describe('NetworkPolicy', () => {
  it('is in the base kustomization and isolates every offboard pod both ways', () => {
    expect(yamlDocs(`${DIR}/kustomization.yaml`)[0].resources).toContain('networkpolicy.yaml');
    for (const d of [api, worker]) {
      expect(policiesFor(base, podLabels(d), 'Ingress').length).toBeGreaterThan(0);
      expect(policiesFor(base, podLabels(d), 'Egress').length).toBeGreaterThan(0);
    }
  });

  it('lets only the ingress controller reach the API, on the served port only', () => {
    expect(ingressAllowed(base, podLabels(api), ingressController, apiPort)).toBe(true);
    expect(ingressAllowed(base, podLabels(api), ingressController, 9229)).toBe(false);
    // Same labels in another namespace, the controller's namespace with other pods, pods of this
    // namespace (a worker included), and Prometheus without the optional component: all refused.
    expect(
      ingressAllowed(
        base,
        podLabels(api),
        { ...ingressController, namespace: { 'kubernetes.io/metadata.name': 'evil' } },
        apiPort,
      ),
    ).toBe(false);
    expect(
      ingressAllowed(base, podLabels(api), { ...ingressController, pod: { app: 'other' } }, apiPort),
    ).toBe(false);
    expect(ingressAllowed(base, podLabels(api), samePodNs(podLabels(worker)), apiPort)).toBe(false);
    expect(ingressAllowed(base, podLabels(api), prometheus, apiPort)).toBe(false);
    // No rule admits address ranges or everyone.
    for (const p of policiesFor(base, podLabels(api), 'Ingress'))
      for (const r of p.spec.ingress ?? []) {
        expect(r.from, p.metadata.name).toBeDefined();
        for (const e of r.from) expect(e.ipBlock, p.metadata.name).toBeUndefined();
      }
  });

  it('lets nothing reach a worker', () => {
    for (const peer of [ingressController, prometheus, samePodNs(podLabels(api)), coreDns])
      for (const port of [apiPort, 80, 443, 6379])
        expect(ingressAllowed(base, podLabels(worker), peer, port)).toBe(false);
  });

  it('lets pods out to DNS, Redis and 443 only', () => {
    for (const d of [api, worker]) {
      const from = podLabels(d);
      expect(egressAllowed(base, from, coreDns, 53, 'UDP')).toBe(true);
      expect(egressAllowed(base, from, coreDns, 53, 'TCP')).toBe(true);
      expect(egressAllowed(base, from, 'outside', 53, 'UDP')).toBe(false);
      expect(egressAllowed(base, from, 'outside', 6379)).toBe(true);
      expect(egressAllowed(base, from, 'outside', 6380)).toBe(true);
      expect(egressAllowed(base, from, 'outside', 443)).toBe(true);
      for (const port of [80, 22, 8080, 25, 5432])
        expect(egressAllowed(base, from, 'outside', port)).toBe(false);
      expect(egressAllowed(base, from, 'outside', 443, 'UDP')).toBe(false);
    }
  });
});

describe('service-account tokens', () => {
  it('are not mounted into worker or API pods', () => {
    expect(worker.spec.template.spec.automountServiceAccountToken).toBe(false);
    expect(api.spec.template.spec.automountServiceAccountToken).toBe(false);
    // Workload identity still applies: the worker runs under the annotated account and opts in.
    expect(worker.spec.template.spec.serviceAccountName).toBe('offboard-worker');
    expect(podLabels(worker)['azure.workload.identity/use']).toBe('true');
  });
});

describe('optional monitoring component', () => {
  const kust = yamlDocs(`${COMPONENT}/kustomization.yaml`)[0];
  it('is a kustomize Component listing exactly its files, not enabled by the base', () => {
    expect(kust.kind).toBe('Component');
    expect(kust.apiVersion).toBe('kustomize.config.k8s.io/v1alpha1');
    expect((kust.resources as string[]).map((r) => `${COMPONENT}/${r}`).sort()).toEqual(componentFiles);
    const baseKust = yamlDocs(`${DIR}/kustomization.yaml`)[0];
    expect(baseKust.components).toBeUndefined();
    expect(base.some((d) => d.apiVersion?.startsWith('monitoring.coreos.com'))).toBe(false);
    expect(repoHas(`${COMPONENT}/kustomization.yaml`)).toBe(true);
  });

  it('has a ServiceMonitor that scrapes /metrics on the API Service with a viewer key from a Secret', () => {
    const sm = find(component, 'ServiceMonitor', 'offboard-api');
    const svc = find(base, 'Service', 'offboard-api');
    expect(selects(sm.spec.selector, svc.metadata.labels)).toBe(true);
    // The selected labels are the API Service's only: workers have no Service.
    expect(selects(sm.spec.selector, podLabels(worker))).toBe(false);
    const ep = sm.spec.endpoints[0];
    expect(svc.spec.ports.map((p: Doc) => p.name)).toContain(ep.port);
    expect(ep.path).toBe('/metrics');
    expect(ep.authorization).toMatchObject({
      type: 'Bearer',
      credentials: { name: expect.any(String), key: expect.any(String) },
    });
    expect(JSON.stringify(sm)).not.toMatch(/bearerToken"|password/);
  });

  it('lets Prometheus through to the API port, and still nothing to the workers', () => {
    const all = [...base, ...component];
    expect(ingressAllowed(all, podLabels(api), prometheus, apiPort)).toBe(true);
    expect(ingressAllowed(all, podLabels(api), prometheus, 9229)).toBe(false);
    expect(ingressAllowed(all, podLabels(worker), prometheus, apiPort)).toBe(false);
    expect(ingressAllowed(all, podLabels(api), samePodNs(podLabels(worker)), apiPort)).toBe(false);
  });

  it('has a PrometheusRule with exactly the rules of deploy/prometheus/offboard-alerts.yml', () => {
    const rule = find(component, 'PrometheusRule', 'offboard');
    expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
    const alerts = yamlDocs('deploy/prometheus/offboard-alerts.yml')[0];
    expect(rule.spec.groups).toEqual(alerts.groups);
    expect(rule.spec.groups.flatMap((g: Doc) => g.rules).length).toBeGreaterThan(10);
  });
});
