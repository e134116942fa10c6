// The go-live checks on the overview: the latest report (kept in Redis by whoever ran it from the API
// or the console) and, for operators, a button that runs them now. Running calls Graph (GETs only), so
// it is an operator's action like GET /v1/preflight; viewers see only whether the last run passed.
import type { FastifyPluginAsync } from 'fastify';
import type { StoredReport } from '../../../preflight/store.js';
import { actorOf } from '../../auth/access.js';
import type { ConsoleEnv } from '../env.js';
import { type Html, html, time } from '../html.js';
import { formBody } from './forms.js';

const MARK = {
  pass: { sign: '✔', word: 'passed', cls: 'ok' },
  fail: { sign: '✘', word: 'failed', cls: 'bad' },
  skip: { sign: '–', word: 'not needed', cls: 'muted' },
} as const;

export function preflightPanel(report: StoredReport | null, operator: boolean, csrf: () => Html): Html {
  const summary = report
    ? html`<p><strong class="${report.ok ? 'ok' : 'bad'}">${report.ok ? 'Ready' : 'Not ready'}</strong>
— last run ${time(report.at)} by ${report.actor}: ${report.checks.filter((c) => c.status === 'fail').length} failed,
${report.checks.filter((c) => c.status === 'pass').length} passed.</p>`
    : html`<p class="muted">Not run yet. Run it before a layoff day (also <span class="mono">offboard preflight</span>).</p>`;
  const table =
    report && operator
      ? html`<div class="wrap"><table aria-labelledby="preflight-h"><thead><tr><th scope="col">result</th><th scope="col">check</th><th scope="col">found</th><th scope="col">fix</th></tr></thead><tbody>
${report.checks.map((c) => {
  const m = MARK[c.status];
  return html`<tr><td class="${m.cls}"><span aria-hidden="true">${m.sign}</span> ${m.word}</td><td class="mono">${c.id}</td><td>${c.detail}</td><td>${c.fix ?? ''}</td></tr>`;
})}
</tbody></table></div>`
      : '';
  const button = operator
    ? html`<form class="inline" method="post" action="/console/preflight">${csrf()}
<button type="submit">Run the go-live checks</button></form>
<p class="muted">Read-only: a token request and a few paced GETs to Graph; no queue changes.</p>`
    : '';
  return html`<section aria-labelledby="preflight-h" id="preflight"><h2 id="preflight-h">Go-live checks (preflight)</h2>
${summary}${table}${button}</section>`;
}

export const preflightPages: FastifyPluginAsync<ConsoleEnv> = async (app, env) => {
  app.post(
    '/console/preflight',
    { config: env.act, handlerTimeout: 180_000, schema: { hide: true, body: formBody({}) } },
    async (request, reply) =>
      env.act$(request, reply, '/console#preflight', async () => {
        const report = await app.preflight(undefined, actorOf(request));
        const failed = report.checks.filter((c) => c.status === 'fail').length;
        return report.ok
          ? 'Go-live checks passed.'
          : `Go-live checks: ${failed} failed. See the table below for the fixes.`;
      }),
  );
};
