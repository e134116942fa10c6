// A worker signing in with a client certificate publishes when that certificate expires, so the
// API's /metrics (which holds no credential) can warn a month ahead (records/credential-expiry.ts).

import type { Config } from '../config/load.js';
import { loadClientCertificate } from '../entra/certificate.js';
import type { QueueContext } from '../queue/context.js';
import { startCertificatePublisher } from '../records/credential-expiry.js';

/** Starts publishing, or returns undefined (no certificate credential, or one the token provider will reject). */
export function publishCertificateExpiry(
  config: Config,
  ctx: QueueContext,
  workerId: string,
): { stop(): Promise<void> } | undefined {
  const credential = config.auth.credential;
  if (config.auth.mode !== 'app' || credential?.kind !== 'certificate') return undefined;
  try {
    const cert = loadClientCertificate(credential.path, credential.password);
    return startCertificatePublisher({ redis: ctx.redis, prefix: ctx.prefix, workerId, cert });
  } catch {
    // An unreadable certificate is the token provider's to report (circuit, error log).
    return undefined;
  }
}
