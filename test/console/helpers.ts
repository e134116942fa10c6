// A cookie-keeping form client for the console over app.inject(), and seeding helpers.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { DeadLetterReason } from '../../src/interfaces.js';
import type { QueueContext } from '../../src/queue/context.js';
import { moveToDeadLetter } from '../../src/records/dead-letter.js';

export const COOKIE = 'offboard_console';

export class ConsoleClient {
  cookie = '';
  constructor(private readonly app: FastifyInstance) {}

  private keep(res: LightMyRequestResponse): LightMyRequestResponse {
    const c = (res.cookies as { name: string; value: string }[]).find((x) => x.name === COOKIE);
    if (c) this.cookie = c.value ? `${COOKIE}=${encodeURIComponent(c.value)}` : '';
    return res;
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.keep(
      await this.app.inject({
        method: 'GET',
        url,
        headers: { ...(this.cookie ? { cookie: this.cookie } : {}), ...headers },
      }),
    );
  }

  async post(
    url: string,
    form: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<LightMyRequestResponse> {
    return this.keep(
      await this.app.inject({
        method: 'POST',
        url,
        payload: new URLSearchParams(form).toString(),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(this.cookie ? { cookie: this.cookie } : {}),
          ...headers,
        },
      }),
    );
  }

  /** The CSRF token of the page at `url` (the session's synchronizer token). */
  async csrf(url = '/console'): Promise<string> {
    const res = await this.get(url);
    const m = /name="_csrf" value="([^"]+)"/.exec(res.body);
    if (!m?.[1]) throw new Error(`no CSRF token on ${url} (${res.statusCode})`);
    return m[1];
  }

  async signIn(key: string): Promise<LightMyRequestResponse> {
    const token = await this.csrf('/console/sign-in');
    return this.post('/console/sign-in', { _csrf: token, key });
  }

  /** Posts a form the way the page does: with the session's token. */
  async act(url: string, form: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.post(url, { _csrf: await this.csrf(), ...form });
  }
}

let seq = 0;

export async function seedDeadLetter(
  ctx: QueueContext,
  user: string,
  reason: DeadLetterReason,
  extra: { correlationId?: string; reason?: string } = {},
): Promise<string> {
  seq++;
  return moveToDeadLetter(
    ctx,
    {
      id: `seed-${Date.now().toString(36)}-${seq}`,
      data: {
        user,
        dryRun: false,
        correlationId: extra.correlationId ?? `HR-${seq}`,
        requestedBy: 'hr-system',
        requestedAt: new Date().toISOString(),
        source: 'api',
        ...(extra.reason ? { reason: extra.reason } : {}),
      },
    },
    {
      reason,
      lastStatus: reason === 'not_found' ? 404 : 503,
      attempts: 3,
      throttledWaits: 0,
      requestId: `req-${seq}`,
    },
    'test',
  );
}
