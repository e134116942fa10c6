// Tokens for every configured tenant, fetched when the worker starts and renewed while it runs. A
// tenant's first leaver would otherwise wait for MSAL's first contact with the tenant's authority
// (metadata, then the token request): in the `tenants` benchmark's probe, 49 small tenants arriving at
// once saw their first Graph call ~0.8 s after enqueue cold and ~25 ms warm (p50). A failure here is
// only logged: the job path meets it again and judges it (the tenant's circuit), so the warm-up alone
// never opens a circuit nor spends a write slot. Tokens live in process memory: no Redis keys.
import type { Logger } from '../log.js';
import type { TenantContexts } from './context.js';

export interface WarmTokensOptions {
  /** Token requests in flight at once. Default 4 (a deployment of 500 tenants warms in seconds). */
  concurrency?: number;
  /** How often every tenant's token is asked for again (a cached one costs nothing). Default 5 min. */
  everyMs?: number;
}

export interface WarmTokens {
  /** Resolves when the first round is done (tests and the benchmark wait for it). */
  ready: Promise<void>;
  stop(): void;
}

export function warmTenantTokens(
  tenants: TenantContexts,
  names: readonly string[],
  logger: Logger,
  opts: WarmTokensOptions = {},
): WarmTokens {
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  let stopped = false;
  async function round(): Promise<void> {
    let next = 0;
    const lane = async () => {
      while (!stopped && next < names.length) {
        const name = names[next++] as string;
        const c = tenants.get(name);
        // A tenant this process parked (circuit open) is left alone until it is resumed.
        if (!c || c.held) continue;
        // The provider is single-flight: a job asking meanwhile joins this request.
        await c.tokenProvider.getToken().catch((err: unknown) => {
          logger.debug({ event: 'tenant-token-warm-failed', tenant: name, err }, 'tenant token not warmed');
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, lane));
  }
  let inFlight = true;
  const ready = round().finally(() => {
    inFlight = false;
  });
  const timer = setInterval(
    () => {
      // A round still going (a slow authority) is not doubled.
      if (inFlight) return;
      inFlight = true;
      void round().finally(() => {
        inFlight = false;
      });
    },
    opts.everyMs ?? 5 * 60_000,
  );
  timer.unref();
  return {
    ready,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
