// Starts the API on config.api.host:port. Used by `offboard api` and by the demo.
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/load.js';
import { type ApiOptions, buildApp } from './app.js';

export interface RunningApi {
  app: FastifyInstance;
  /** Base URL to reach the API from this host, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Stops accepting, finishes in-flight requests, closes the Redis context it created. */
  close(): Promise<void>;
}

export async function startApi(config: Config, opts: ApiOptions = {}): Promise<RunningApi> {
  const app = await buildApp(config, opts);
  try {
    await app.listen({ port: config.api.port, host: config.api.host });
  } catch (err) {
    await app.close().catch(() => {});
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.api.port;
  const wildcard = ['0.0.0.0', '::', ''].includes(config.api.host);
  const host = wildcard
    ? '127.0.0.1'
    : config.api.host.includes(':')
      ? `[${config.api.host}]`
      : config.api.host;
  return { app, url: `http://${host}:${port}`, close: () => app.close() };
}
