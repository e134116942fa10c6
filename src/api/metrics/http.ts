// The API process's own series: requests by route and status, latency, intake results, the
// build, and the Node process defaults. Each app gets its own registry (tests run several apps in
// one process).
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface ApiMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route'>;
  intake: Counter<'result'>;
}

export function createApiMetrics(version = '0.0.0'): ApiMetrics {
  const registry = new Registry();
  // prom-client's standard names (process_*, nodejs_*), which the usual Node.js dashboards query.
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'offboard_build_info',
    help: 'Always 1; labels name the running offboard version and runtime',
    labelNames: ['version', 'node', 'platform'],
    registers: [registry],
  }).set({ version, node: process.version, platform: `${process.platform}-${process.arch}` }, 1);
  return {
    registry,
    requests: new Counter({
      name: 'offboard_api_http_requests_total',
      help: 'HTTP requests by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'offboard_api_http_request_duration_seconds',
      help: 'HTTP request latency by method and route pattern',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    intake: new Counter({
      name: 'offboard_api_intake_items_total',
      help: 'Offboarding requests received through the API by result (accepted, duplicate, invalid, held)',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}
