// A webhook receiver for tests: a real node:http server on loopback that verifies every delivery with
// the exported verifySignature (on the raw bytes) and, as a receiver would, with the published
// `standardwebhooks` package; it answers what the test tells it to.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { WebhookEvent } from '../../src/notify/events.js';
import { standardWebhooksSecret, verifySignature } from '../../src/notify/sign.js';

export interface Delivery {
  at: number;
  eventId: string;
  verified: boolean;
  /** Verified by the `standardwebhooks` package from the webhook-* headers. */
  standardVerified: boolean;
  /** The status this receiver answered. */
  answered: number;
  attempt: string | undefined;
  event: WebhookEvent | null;
}

export interface Receiver {
  url: string;
  deliveries: Delivery[];
  /** Status answered from now on (200 by default). */
  answer(status: number): void;
  /** Events answered 2xx, by event id (several when a delivery was repeated). */
  accepted(): Map<string, Delivery[]>;
  close(): Promise<void>;
}

export async function startReceiver(secret: string, path = '/hook'): Promise<Receiver> {
  let status = 200;
  const standard = new Webhook(standardWebhooksSecret(secret));
  const deliveries: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let event: WebhookEvent | null = null;
      try {
        event = JSON.parse(raw.toString('utf8')) as WebhookEvent;
      } catch {
        // recorded as unparsable
      }
      const answered = req.url === path ? status : 404;
      deliveries.push({
        at: Date.now(),
        eventId: String(req.headers['x-offboard-event-id'] ?? ''),
        verified: verifySignature(secret, req.headers, raw),
        standardVerified: standardVerify(standard, req.headers, raw),
        answered,
        attempt: req.headers['x-offboard-delivery-attempt'] as string | undefined,
        event,
      });
      res.writeHead(answered, { 'content-type': 'text/plain' });
      res.end(answered < 300 ? 'ok' : 'not now');
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    deliveries,
    answer(s) {
      status = s;
    },
    accepted() {
      const out = new Map<string, Delivery[]>();
      for (const d of deliveries) {
        if (d.answered >= 300) continue;
        out.set(d.eventId, [...(out.get(d.eventId) ?? []), d]);
      }
      return out;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

function standardVerify(
  wh: Webhook,
  headers: Record<string, string | string[] | undefined>,
  raw: Buffer,
): boolean {
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (typeof v === 'string') flat[k] = v;
  try {
    wh.verify(raw, flat);
    return true;
  } catch {
    return false;
  }
}
