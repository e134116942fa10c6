// Delivers one outcome event to one configured destination, signed for this attempt. What counts:
// 2xx = delivered; 410 Gone = the receiver wants no more (stop at once); anything else (other 4xx,
// 5xx, timeout, connection error, a redirect) is retried with backoff until the attempts run out,
// as Stripe does: a receiver that is being fixed (wrong secret, route missing) still gets its events.
import { VERSION } from '../version.js';
import { resolveWebhookUrl } from './destination.js';
import { DeliveryError } from './errors.js';
import { postJson } from './http.js';
import type { WebhookJobData } from './queue.js';
import { signedHeaders } from './sign.js';

export interface WebhookDelivery {
  status: number;
}

export interface WebhookSettings {
  urls: readonly string[];
  secret?: string;
  timeoutMs?: number;
  /** 1-based attempt number, sent as `X-Offboard-Delivery-Attempt` (receivers may log it). */
  attempt?: number;
}

export async function deliverWebhook(job: WebhookJobData, s: WebhookSettings): Promise<WebhookDelivery> {
  // Only URLs that are configured now are called: a job written into Redis by someone else, or left
  // over after a destination was removed from WEBHOOK_URLS, goes nowhere.
  const url = resolveWebhookUrl(job, s.urls);
  if (url === undefined) {
    throw new DeliveryError(
      'destination is no longer in WEBHOOK_URLS',
      null,
      true,
      undefined,
      'not_configured',
    );
  }
  if (!s.secret) throw new DeliveryError('WEBHOOK_SECRET is not set', null, true, undefined, 'no_secret');
  const body = JSON.stringify(job.event);
  const res = await postJson(
    url,
    {
      'user-agent': `offboard/${VERSION}`,
      'X-Offboard-Event-Type': job.event.type,
      'X-Offboard-Delivery-Attempt': String(s.attempt ?? 1),
      ...signedHeaders(s.secret, job.event.id, body),
    },
    body,
    s.timeoutMs,
  );
  if (res.status >= 200 && res.status < 300) return { status: res.status };
  if (res.status === 410) {
    throw new DeliveryError('destination answered 410 Gone', 410, true, undefined, 'gone');
  }
  throw new DeliveryError(`destination answered ${res.status}`, res.status, false, res.retryAfterMs);
}
