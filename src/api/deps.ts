// What every route plugin receives: the queue handles, the configuration and the API's metrics.
import type { Config } from '../config/load.js';
import type { QueueContext } from '../queue/context.js';
import type { KeyStore } from './auth/keys.js';
import type { ApiMetrics } from './metrics/http.js';

export interface ApiDeps {
  ctx: QueueContext;
  config: Config;
  metrics: ApiMetrics;
  keys: KeyStore;
  /** API_AUTH=disabled. */
  authDisabled: boolean;
}
