// A worker process's multi-tenant parts, built only with a TENANTS_FILE: the per-tenant contexts
// (context.ts) and the fair dispatcher (dispatch.ts). Without the file this returns undefined and the
// worker runs exactly as before (one token provider, the deployment's pacers and circuit).
import type { Config } from '../config/load.js';
import { TokenAcquisitionError } from '../entra/errors.js';
import type { GraphTransport } from '../graph/call.js';
import type { TokenProvider } from '../interfaces.js';
import type { Logger } from '../log.js';
import type { Pacer } from '../pacing/pacer.js';
import type { QueueContext } from '../queue/context.js';
import { createTenantContexts } from './context.js';
import { createDispatcher, type Dispatcher } from './dispatch.js';
import type { TenantConfig } from './types.js';
import { warmTenantTokens } from './warm-tokens.js';

export interface RunningTenants {
  dispatcher: Dispatcher;
  /**
   * The provider for the process's other workers when the deployment has no AZURE_TENANT_ID of its
   * own; undefined when it has one (the usual provider is built).
   */
  fallback?: TokenProvider;
  /** A tenant's token provider and read pacer, for the process's reads outside the retire job (verification). */
  reads(tenant: string): { tokenProvider: TokenProvider; readPacer: Pacer } | undefined;
  /** Every tenant's first token asked for (warm-tokens.ts); failures included, never rejects. */
  tokensWarm: Promise<void>;
  close(): Promise<void>;
}

export function startTenants(
  config: Config,
  opts: {
    ctx: QueueContext;
    logger: Logger;
    actor: string;
    transport?: GraphTransport;
    tokenProviderFor?: (tenant: TenantConfig) => TokenProvider;
  },
): RunningTenants | undefined {
  if (!config.tenants) return undefined;
  const contexts = createTenantContexts(opts);
  const dispatcher = createDispatcher({ ...opts, tenants: contexts });
  const warm = warmTenantTokens(
    contexts,
    config.tenants.map((t) => t.name),
    opts.logger,
  );
  const fallback: TokenProvider | undefined = config.auth.tenantId
    ? undefined
    : {
        getToken: () =>
          Promise.reject(
            new TokenAcquisitionError(
              'no deployment tenant (AZURE_TENANT_ID): this call has no tenant of its own',
              'not_configured',
              false,
            ),
          ),
      };
  const reads = (name: string) => {
    const c = contexts.get(name);
    return c ? { tokenProvider: c.tokenProvider, readPacer: c.readPacer } : undefined;
  };
  return {
    dispatcher,
    ...(fallback ? { fallback } : {}),
    reads,
    tokensWarm: warm.ready,
    close: () => {
      warm.stop();
      return contexts.close();
    },
  };
}
