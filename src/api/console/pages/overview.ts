// Overview: counts per state, pace against the limit, the Retry-After gate, pause and circuit with
// their controls, the backlog ETA and the calls-per-minute chart.
import type { FastifyPluginAsync } from 'fastify';
import { pauseQueue, resumeQueue } from '../../../control/queue-control.js';
import { listBatches } from '../../../guard/batches.js';
import { lastReport } from '../../../preflight/store.js';
import { readMinutes } from '../../../records/minute-counters.js';
import { isScoped } from '../../../tenants/scope.js';
import { actorOf } from '../../auth/access.js';
import { queuesStatus } from '../../routes/queues.js';
import { callsChart } from '../chart.js';
import { formatDuration } from '../duration.js';
import type { ConsoleEnv } from '../env.js';
import { type Html, html, time } from '../html.js';
import { homeOf } from '../layout.js';
import { formBody, NOTE, text } from './forms.js';
import { preflightPanel } from './preflight.js';
import { tenantRows, tenantTable } from './tenants.js';

const HOURS = [1, 3, 6] as const;
/** Minutes the achieved rate is averaged over (whole minutes before the current one). */
const RATE_MINUTES = 5;

const overviewQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    hours: { type: 'integer', enum: [...HOURS], default: 3 },
    refresh: { type: 'integer', enum: [0, 15, 30, 60], default: 0 },
  },
} as const;

// formatDuration lives in duration.ts (the tenants page uses it too); kept importable from here.
export { formatDuration };

export interface Eta {
  ready: number;
  ratePerSecond: number;
  seconds: number | null;
  /** Why there is no estimate. */
  note?: string;
}

/** Backlog ETA: jobs ready to run ÷ the rate at which Graph calls succeeded lately. */
export function backlogEta(ready: number, okCalls: number, windowSeconds: number, paused: boolean): Eta {
  const ratePerSecond = windowSeconds > 0 ? okCalls / windowSeconds : 0;
  if (ready === 0) return { ready, ratePerSecond, seconds: 0 };
  if (paused)
    return {
      ready,
      ratePerSecond,
      seconds: null,
      note: 'the queue is paused: no progress until it is resumed',
    };
  if (ratePerSecond <= 0) {
    return {
      ready,
      ratePerSecond,
      seconds: null,
      note: `nothing retired in the last ${RATE_MINUTES} minutes`,
    };
  }
  return { ready, ratePerSecond, seconds: ready / ratePerSecond };
}

export const overviewPages: FastifyPluginAsync<ConsoleEnv> = async (app, env) => {
  const { ctx, config } = env.deps;

  app.get(
    '/console',
    // Every signed-in key lands here; a producer (who may see only its submit page) is sent there.
    // tenantAware: a tenant-scoped key is sent to its tenants' page (the figures here are everyone's).
    { config: { ...env.signedIn, tenantAware: true }, schema: { hide: true, querystring: overviewQuery } },
    async (request, reply) => {
      const role = request.principal?.role;
      if (isScoped(request.principal)) return reply.redirect(homeOf(role, true), 303);
      if (role !== 'viewer' && role !== 'operator') return reply.redirect(homeOf(role), 303);
      const q = request.query as { hours: number; refresh: number };
      const now = Date.now();
      const [status, minutes, held, preflight, tenants] = await Promise.all([
        queuesStatus(ctx),
        readMinutes(ctx.redis, ctx.prefix, q.hours * 60, now),
        listBatches(ctx, { state: 'held', limit: 1000 }),
        lastReport(ctx.redis, ctx.prefix),
        config.tenants?.length ? tenantRows(ctx, request) : Promise.resolve(null),
      ]);
      const { retire, throttle, circuit, pause } = status;
      const ready = (retire.waiting ?? 0) + (retire.prioritized ?? 0) + (retire.active ?? 0);
      const recent = minutes.slice(-(RATE_MINUTES + 1), -1);
      const okCalls = recent.reduce((s, r) => s + r.counts.ok, 0);
      const allCalls = recent.reduce((s, r) => s + Object.values(r.counts).reduce((a, b) => a + b, 0), 0);
      const throttled = recent.reduce((s, r) => s + r.counts.throttled, 0);
      const eta = backlogEta(ready, okCalls, recent.length * 60, status.paused);
      const limitPerSecond = (config.graph.rateLimit.limit * 1000) / config.graph.rateLimit.windowMs;
      const operator = env.operator(request);
      const csrf = () => env.csrf(request);

      const controls: Html | null = operator
        ? status.paused || circuit.open
          ? html`<form class="inline" method="post" action="/console/queue/resume">${csrf()}
<button class="primary" type="submit">${circuit.open ? 'Resume and close the circuit' : 'Resume the retire queue'}</button></form>`
          : html`<form class="inline" method="post" action="/console/queue/pause">${csrf()}
<div class="field"><label for="pause-reason">Reason for pausing</label>
<input id="pause-reason" name="reason" maxlength="500" placeholder="e.g. change freeze"></div>
<button class="danger" type="submit">Pause the retire queue</button></form>`
        : null;

      const body = html`
<section aria-labelledby="state-h"><h2 id="state-h" class="visually-hidden">State</h2>
<div class="cards">
<div class="card"><h2>Retire queue</h2><p class="big ${status.paused ? 'bad' : 'ok'}">${status.paused ? 'paused' : 'running'}</p>
${pause ? html`<p>${pause.reason}<br><span class="muted">by ${pause.actor}, ${time(pause.at)}</span></p>` : ''}</div>
<div class="card"><h2>Circuit</h2><p class="big ${circuit.open ? 'bad' : 'ok'}">${circuit.open ? 'open' : 'closed'}</p>
${circuit.open ? html`<p><span class="mono">${circuit.code ?? ''}</span>: ${circuit.reason ?? ''}<br><span class="muted">since ${time(circuit.openedAt)} (${circuit.openedBy ?? '?'})</span></p><p>Fix the cause (see the runbook "secret expired"), then resume.</p>` : ''}</div>
<div class="card"><h2>Pace</h2><p class="big">${(allCalls / Math.max(1, recent.length * 60)).toFixed(2)} calls/s</p>
<p>allowed now ${throttle.ratePerSecond} /s of a limit of ${limitPerSecond.toFixed(2)} /s
(${config.graph.rateLimit.limit} per ${config.graph.rateLimit.windowMs / 1000} s); factor ${throttle.factor}${throttle.factor < 1 ? html` <span class="warn">(Intune pushed back; recovering)</span>` : ''}</p>
<p class="muted">achieved: average of the last ${RATE_MINUTES} full minutes, ${throttled} × 429</p></div>
<div class="card"><h2>Retry-After gate</h2>${
        throttle.pausedUntil
          ? html`<p class="big warn">closed</p><p>no new Graph call before ${time(throttle.pausedUntil)}</p>`
          : html`<p class="big ok">open</p>`
      }</div>
<div class="card"><h2>Backlog ETA</h2><p class="big">${eta.seconds === null ? '–' : formatDuration(eta.seconds)}</p>
<p>${eta.ready} ready (waiting + active) at ${eta.ratePerSecond.toFixed(2)} retired/s${
        eta.seconds ? html`; done ≈ ${time(now + eta.seconds * 1000)}` : ''
      }</p>${eta.note ? html`<p class="warn">${eta.note}</p>` : ''}
<p class="muted">${retire.delayed ?? 0} delayed (future-dated or backing off) are not in the estimate.</p></div>
</div>
${controls ? html`<div class="actions">${controls}</div>` : ''}
</section>

<h2 id="counts-h">Jobs per state</h2>
<div class="wrap"><table aria-labelledby="counts-h"><thead><tr><th scope="col">queue</th>${Object.keys(retire).map((k) => html`<th scope="col" class="num">${k}</th>`)}</tr></thead>
<tbody><tr><th scope="row">retire</th>${Object.values(retire).map((v) => html`<td class="num">${v}</td>`)}</tr></tbody></table>
<table><thead><tr><th scope="col">queue</th>${Object.keys(status.deadLetter).map((k) => html`<th scope="col" class="num">${k}</th>`)}</tr></thead>
<tbody><tr><th scope="row"><a href="/console/dead-letters">dead-letter</a></th>${Object.values(status.deadLetter).map((v) => html`<td class="num">${v}</td>`)}</tr></tbody></table></div>
<p>${held.length > 0 ? html`<a href="/console/batches"><strong>${held.length}</strong> batch(es) held for approval</a>` : html`<span class="muted">No batch is held for approval.</span>`}</p>

${tenants ? html`<h2 id="tenants-h">Tenants</h2><p><a href="/console/tenants">Filter tenants</a></p>${tenantTable(tenants)}` : ''}
${preflightPanel(preflight, operator, csrf)}

<h2 id="chart-h">Graph calls per minute, last ${q.hours} h</h2>
<p>${HOURS.map((h) => (h === q.hours ? html`<strong>${h} h</strong> ` : html`<a href="/console?hours=${h}">${h} h</a> `))}
· ${q.refresh ? html`refreshing every ${q.refresh} s (<a href="/console?hours=${q.hours}">stop</a>)` : html`<a href="/console?hours=${q.hours}&amp;refresh=30">refresh every 30 s</a>`}</p>
${callsChart(minutes, limitPerSecond * 60)}`;
      return env.render(request, reply, 'Overview', body, q.refresh ? { refreshSeconds: q.refresh } : {});
    },
  );

  app.post(
    '/console/queue/pause',
    { config: env.act, schema: { hide: true, body: formBody({ reason: NOTE }) } },
    async (request, reply) =>
      env.act$(request, reply, '/console', async () => {
        const reason = text((request.body as { reason?: string }).reason) ?? 'paused by operator';
        await pauseQueue(ctx, actorOf(request), reason);
        return `Retire queue paused: ${reason}. Calls already on the wire finish.`;
      }),
  );

  app.post(
    '/console/queue/resume',
    { config: env.act, schema: { hide: true, body: formBody({}) } },
    async (request, reply) =>
      env.act$(request, reply, '/console', async () => {
        const { circuitWasOpen } = await resumeQueue(ctx, actorOf(request));
        return circuitWasOpen ? 'Retire queue resumed and the circuit closed.' : 'Retire queue resumed.';
      }),
  );
};
