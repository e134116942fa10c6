// When the workers' client certificate expires. Only workers hold the credential (the API pod has
// none), so each worker publishes the certificate it signs in with, under its worker id, at start
// and every minute after; /metrics reads the fresh entries from Redis and prunes long-dead ones.
import { keys } from '../queue/names.js';
import type { RedisClient } from '../redis/connection.js';

export interface CertificateExpiry {
  /** Hex SHA-256 thumbprint of the leaf certificate (public, not secret). */
  thumbprint: string;
  /** Epoch ms of the certificate's notAfter. */
  notAfterMs: number;
  /** Epoch ms the worker last published it. */
  publishedAtMs: number;
}

export interface CertificatePublisherOptions {
  redis: RedisClient;
  prefix: string;
  workerId: string;
  cert: { thumbprintSha256: string; notAfter: string };
  /** Default 60 s. Readers treat entries older than 5 minutes as gone. */
  everyMs?: number;
}

/** An entry counts while younger than this; older entries belong to workers that stopped. */
export const FRESH_MS = 5 * 60_000;
/** Entries older than this are deleted by readers. */
const PRUNE_MS = 60 * 60_000;

export function startCertificatePublisher(opts: CertificatePublisherOptions): { stop(): Promise<void> } {
  const key = keys.credentialExpiry(opts.prefix);
  const notAfterMs = Date.parse(opts.cert.notAfter);
  const publish = () => {
    const entry: CertificateExpiry = {
      thumbprint: opts.cert.thumbprintSha256,
      notAfterMs,
      publishedAtMs: Date.now(),
    };
    // A missed write during a Redis outage is repaired by the next one.
    opts.redis.hset(key, opts.workerId, JSON.stringify(entry)).catch(() => undefined);
  };
  publish();
  const timer = setInterval(publish, opts.everyMs ?? 60_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await opts.redis.hdel(key, opts.workerId).catch(() => undefined);
    },
  };
}

/** The certificates running workers use, one entry per distinct certificate, earliest expiry first. */
export async function readCertificateExpiries(
  redis: RedisClient,
  prefix: string,
  now = Date.now(),
): Promise<CertificateExpiry[]> {
  const key = keys.credentialExpiry(prefix);
  const all = await redis.hgetall(key);
  const byThumbprint = new Map<string, CertificateExpiry>();
  const gone: string[] = [];
  for (const [id, raw] of Object.entries(all)) {
    let e: CertificateExpiry | null = null;
    try {
      e = JSON.parse(raw) as CertificateExpiry;
    } catch {
      // unreadable: pruned below
    }
    if (!e || !Number.isFinite(e.publishedAtMs) || now - e.publishedAtMs > PRUNE_MS) {
      gone.push(id);
      continue;
    }
    if (now - e.publishedAtMs > FRESH_MS || typeof e.thumbprint !== 'string') continue;
    if (!Number.isFinite(e.notAfterMs)) continue;
    const seen = byThumbprint.get(e.thumbprint);
    if (!seen || seen.publishedAtMs < e.publishedAtMs) byThumbprint.set(e.thumbprint, e);
  }
  if (gone.length > 0) await redis.hdel(key, ...gone);
  return [...byThumbprint.values()].sort((a, b) => a.notAfterMs - b.notAfterMs);
}
