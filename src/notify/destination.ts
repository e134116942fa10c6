// Which WEBHOOK_URLS entry a webhook job goes to. A job lives in Redis for up to RETAIN_FAILED, so it
// holds no URL (a URL may carry a token in its path or query): only the index the URL had at emit time
// and a hash of it. Delivery resolves both against the configuration it runs with; a job whose URL
// left the configuration, or whose index now names another URL, resolves to nothing and fails.
import { createHash } from 'node:crypto';

export interface WebhookDestinationRef {
  /** Index in WEBHOOK_URLS at emit time. */
  destination: number;
  /** `webhookUrlHash` of that URL. */
  urlHash?: string;
  /** Written by versions before the hash; read so their queued jobs still deliver, never written. */
  url?: unknown;
}

/** A one-way digest of a destination URL (hex SHA-256, 32 characters), to match, never to show. */
export function webhookUrlHash(url: string): string {
  return createHash('sha256').update(`offboard-webhook\u0000${url}`).digest('hex').slice(0, 32);
}

/** The configured URL this job may be delivered to, or undefined when it is no longer configured. */
export function resolveWebhookUrl(ref: WebhookDestinationRef, urls: readonly string[]): string | undefined {
  if (typeof ref.urlHash === 'string') {
    const at = urls[ref.destination];
    if (at !== undefined && webhookUrlHash(at) === ref.urlHash) return at;
    // The list was reordered: the same URL at another index is still the destination it was.
    return urls.find((u) => webhookUrlHash(u) === ref.urlHash);
  }
  return typeof ref.url === 'string' && urls.includes(ref.url) ? ref.url : undefined;
}

/** The destination's host for audit and logs (never its path or query), when it is configured. */
export function webhookHost(ref: WebhookDestinationRef, urls: readonly string[]): string {
  const url = resolveWebhookUrl(ref, urls);
  if (!url) return '';
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}
