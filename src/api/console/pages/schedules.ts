// Scheduled sweeps: name, cron and zone, source, next run, the last tick's summary and whether the
// schedule is failing (its last failed tick is newer than its last good one). Read only: schedules
// are changed with `offboard schedule add|remove`, where the definition is validated.
import type { FastifyPluginAsync } from 'fastify';
import { feedDisplayUrl, formatDuration, type SweepSource } from '../../../schedule/definition.js';
import { listSchedules } from '../../../schedule/schedules.js';
import { readSweepStatuses, type SweepStatus } from '../../../schedule/sweep-status.js';
import type { ConsoleEnv } from '../env.js';
import { html, time } from '../html.js';

function sourceText(source: SweepSource | undefined) {
  if (!source) return html`<span class="muted">unknown</span>`;
  if (source.type === 'csv') return html`CSV <span class="mono">${source.path}</span>`;
  if (source.type === 'entra') {
    const offset = source.offsetMs ? `, offset ${formatDuration(source.offsetMs)}` : '';
    return html`Entra <span class="mono">employeeLeaveDateTime</span>, lookahead ${formatDuration(source.lookaheadMs)}${offset}, reconcile ${source.reconcile ? 'on' : 'off'}`;
  }
  return html`feed <span class="mono">${feedDisplayUrl(source.url)}</span>${source.tokenEnv ? html` (token from ${source.tokenEnv})` : ''}`;
}

function health(s: SweepStatus | undefined) {
  if (!s || (s.lastSuccessMs === 0 && s.lastFailureMs === 0))
    return html`<span class="muted">not run yet</span>`;
  if (s.lastFailureMs > s.lastSuccessMs) {
    return html`<span class="bad">failing</span> since ${time(s.lastFailureMs)}${s.lastError ? html`: <span class="mono">${s.lastError}</span>` : ''}${s.lastSuccessMs ? html`; last good ${time(s.lastSuccessMs)}` : ''}`;
  }
  return html`<span class="ok">ok</span>`;
}

export const schedulePages: FastifyPluginAsync<ConsoleEnv> = async (app, env) => {
  const { ctx } = env.deps;

  app.get('/console/schedules', { config: env.view, schema: { hide: true } }, async (request, reply) => {
    const [schedules, statuses] = await Promise.all([
      listSchedules(ctx),
      readSweepStatuses(ctx.redis, ctx.prefix),
    ]);
    const byName = new Map(statuses.map((s) => [s.schedule, s]));
    const rows = schedules.map((s) => {
      const st = byName.get(s.name);
      return html`<tr><th scope="row">${s.name}${s.dryRun ? html` <span class="muted">(dry run)</span>` : ''}</th>
<td class="mono">${s.cron}</td><td>${s.tz}</td><td>${sourceText(s.source)}</td><td>${time(s.next)}</td>
<td>${st?.lastSuccessMs ? html`${time(st.lastSuccessMs)}: found ${st.items.found}, new ${st.items.new}${s.source?.type === 'entra' ? `, rescheduled ${st.items.rescheduled}, withdrawn ${st.items.withdrawn}` : ''}, duplicate ${st.items.duplicate}, invalid ${st.items.invalid}${st.held ? html`, <span class="warn">held for approval</span>` : ''}` : html`<span class="muted">–</span>`}</td>
<td>${health(st)}</td><td class="num">${st ? `${st.runs.success} / ${st.runs.failure}` : '0 / 0'}</td></tr>`;
    });
    const body =
      schedules.length === 0
        ? html`<p role="status">No schedules. Add one with <code>offboard schedule add NAME --cron "0 2 * * *" --tz Europe/Berlin --source …</code>.</p>`
        : html`<div class="wrap"><table><caption class="visually-hidden">Scheduled sweeps</caption>
<thead><tr><th scope="col">name</th><th scope="col">cron</th><th scope="col">zone</th><th scope="col">source</th><th scope="col">next run</th><th scope="col">last good tick</th><th scope="col">state</th><th scope="col" class="num">runs ok / failed</th></tr></thead>
<tbody>${rows}</tbody></table></div>
<p class="muted">Schedules are changed with <code>offboard schedule add|remove</code>; each tick is audited as a <code>sweep</code> entry.</p>`;
    return env.render(request, reply, 'Schedules', body);
  });
};
