// A small read-only status page at `/` for people: queue counts, pause, throttle and circuit state,
// the latest dead letters. Server-rendered, refreshes itself with a meta refresh (no script), and
// its one inline stylesheet is allowed by hash, so the page runs under a strict CSP.
import { createHash } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { countByVerificationState, listUnverified } from '../../evidence/store.js';
import { listDeadLetters } from '../../records/dead-letter.js';
import { VIEWER_BROWSER } from '../auth/access.js';
import type { ApiDeps } from '../deps.js';
import { isRedisUnavailable, redisDown } from '../errors.js';
import { queuesStatus } from './queues.js';

const REFRESH_SECONDS = 10;

const CSS = `body{font:14px system-ui,sans-serif;margin:2rem;color:#1d2733;background:#f6f8fa}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem}
table{border-collapse:collapse;background:#fff;margin-bottom:.8rem}td,th{border:1px solid #d0d7de;padding:.3rem .7rem;text-align:left}
.ok{color:#1a7f37}.bad{color:#cf222e;font-weight:600}.muted{color:#57606a}`;
const CSS_HASH = `'sha256-${createHash('sha256').update(CSS).digest('base64')}'`;

function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function table(headers: string[], rows: unknown[][]): string {
  const head = `<tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('');
  return `<table>${head}${body}</table>`;
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="${REFRESH_SECONDS}"><meta name="robots" content="noindex">
<title>${esc(title)}</title><style>${CSS}</style></head><body>
<h1>offboard status</h1>${body}
<p class="muted">Refreshes every ${REFRESH_SECONDS} s · generated ${esc(new Date().toISOString())} ·
<a href="/dashboard">dashboard</a> · <a href="/docs">API docs</a></p></body></html>`;
}

type Counts = Awaited<ReturnType<typeof countByVerificationState>>;
type Unverified = Awaited<ReturnType<typeof listUnverified>>;

/** Proof of retirement at a glance: leavers per verification state and the latest unverified ones. */
function evidenceSection(counts: Counts, unverified: Unverified): string {
  const open = (r: Unverified[number]) =>
    r.verification.devices
      .filter((d) => d.result !== 'retired')
      .map((d) => `${d.deviceId} ${d.result}${d.stateAfter ? ` (${d.stateAfter})` : ''}`)
      .join(', ');
  return [
    `<p>Evidence: <span class="ok">${esc(counts.verified)} verified</span> · ${counts.unverified > 0 ? `<span class="bad">${esc(counts.unverified)} unverified</span>` : '0 unverified'} · ${esc(counts.pending)} pending verification</p>`,
    `<h2>Latest unverified leavers (${esc(counts.unverified)})</h2>`,
    unverified.length === 0
      ? '<p class="muted">none</p>'
      : table(
          ['job', 'user', 'ended at', 'devices not retired'],
          unverified.map((r) => [r.jobId, r.user, r.verification.endedAt ?? '-', open(r)]),
        ),
  ].join('\n');
}

export const statusPageRoutes: FastifyPluginAsync<ApiDeps> = async (app, { ctx, config }) => {
  app.get(
    '/',
    {
      config: {
        access: VIEWER_BROWSER,
        // Renders its own HTML 503 page rather than the API's JSON one.
        redisOptional: true,
        helmet: {
          contentSecurityPolicy: {
            useDefaults: false,
            directives: {
              defaultSrc: ["'none'"],
              styleSrc: [CSS_HASH],
              baseUri: ["'none'"],
              formAction: ["'none'"],
              frameAncestors: ["'none'"],
            },
          },
        },
      },
      schema: {
        summary: 'Status page for people (HTML, refreshes itself)',
        tags: ['ui'],
        security: [{ basic: [] }, { apiKey: [] }],
        produces: ['text/html'],
        response: {
          200: { type: 'string', description: 'HTML' },
          503: { type: 'string', description: 'HTML: Redis unreachable' },
        },
      },
    },
    async (_request, reply) => {
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
      const down = () =>
        reply
          .status(503)
          .send(page('offboard: Redis unreachable', '<p class="bad">Redis is unreachable.</p>'));
      if (redisDown(ctx.redis)) return down();
      let status: Awaited<ReturnType<typeof queuesStatus>>;
      let dead: Awaited<ReturnType<typeof listDeadLetters>>;
      let counts: Counts;
      let unverified: Unverified;
      try {
        [status, dead, counts, unverified] = await Promise.all([
          queuesStatus(ctx),
          listDeadLetters(ctx, { limit: 10 }),
          countByVerificationState(ctx.redis, ctx.prefix, config.evidence.retentionMs),
          listUnverified(ctx.redis, ctx.prefix, { limit: 10 }),
        ]);
      } catch (err) {
        if (!isRedisUnavailable(err, ctx.redis)) throw err;
        return reply
          .status(503)
          .send(page('offboard: Redis unreachable', '<p class="bad">Redis is unreachable.</p>'));
      }
      const { circuit, throttle, pause } = status;
      const parts = [
        `<p>Retire queue: ${status.paused ? `<span class="bad">paused</span> — ${esc(pause?.reason ?? 'no reason recorded')} (${esc(pause?.actor ?? '?')}, ${esc(pause?.at ?? '')})` : '<span class="ok">running</span>'}</p>`,
        `<p>Circuit: ${circuit.open ? `<span class="bad">open</span> — ${esc(circuit.code)}: ${esc(circuit.reason)} since ${esc(circuit.openedAt)}` : '<span class="ok">closed</span>'}</p>`,
        `<p>Throttle: ${esc(throttle.ratePerSecond)} calls/s allowed (factor ${esc(throttle.factor)}, configured ${esc(throttle.configured.limit)} per ${esc(throttle.configured.windowMs / 1000)} s)${throttle.pausedUntil ? ` — <span class="bad">Retry-After pause until ${esc(throttle.pausedUntil)}</span>` : ''}</p>`,
        '<h2>Queues</h2>',
        table(['queue', ...Object.keys(status.retire)], [['retire', ...Object.values(status.retire)]]),
        table(
          ['queue', ...Object.keys(status.deadLetter)],
          [['dead-letter', ...Object.values(status.deadLetter)]],
        ),
        evidenceSection(counts, unverified),
        `<h2>Latest dead letters (${esc(dead.total)})</h2>`,
        dead.items.length === 0
          ? '<p class="muted">none</p>'
          : table(
              ['id', 'user', 'reason', 'last status', 'graph code', 'attempts', 'dead-lettered at'],
              dead.items.map((d) => [
                d.id,
                d.original.user,
                d.reason,
                d.lastStatus ?? '-',
                d.graphCode ?? '-',
                d.attempts,
                d.deadLetteredAt,
              ]),
            ),
      ];
      return page('offboard status', parts.join('\n'));
    },
  );
};
