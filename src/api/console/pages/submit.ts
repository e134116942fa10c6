// Submit leavers (producer keys): paste a CSV, check it (the import's plan: nothing enqueued or
// held), then submit it. Both run importCsv, the CLI's and the sweeps' path, so the mass-change
// guard, GUARD_WINDOW, the held caps, the per-row validation and the audit are its own.
import { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { actionsText, deviceLabel, omittedText, ruleText } from '../../../device-policy/describe.js';
import { graphDevicePlans, MAX_PLAN_LEAVERS } from '../../../device-policy/leaver-plans.js';
import { DevicePolicyForbiddenError, type DevicePolicyScope } from '../../../front-door/device-policy.js';
import { HeldLimitError } from '../../../guard/errors.js';
import { type ImportResult, importCsv } from '../../../import/csv.js';
import { ImportFormatError } from '../../../import/row.js';
import { InvalidTimeZoneError } from '../../../values/timezone.js';
import { actorOf } from '../../auth/access.js';
import type { ConsoleEnv } from '../env.js';
import { type Html, html } from '../html.js';
import { formBody, text } from './forms.js';

/** The signed-in key's device policy profiles (a producer: the default and the ones API_KEYS lists). */
function consoleScope(request: FastifyRequest): { devicePolicyScope?: DevicePolicyScope } {
  const p = request.principal;
  if (!p) return {};
  return {
    devicePolicyScope: { role: p.role, ...(p.devicePolicies ? { devicePolicies: p.devicePolicies } : {}) },
  };
}

/** Invalid rows listed on the page; the totals count all of them. */
const SHOWN_ERRORS = 500;

const submitBody = formBody(
  {
    csv: { type: 'string' },
    tz: { type: 'string', maxLength: 64 },
    action: { type: 'string', enum: ['check', 'submit'] },
  },
  ['csv', 'action'],
);

interface SubmitForm {
  csv: string;
  tz?: string;
  action: 'check' | 'submit';
}

function invalidRows(r: ImportResult): Html {
  if (r.errors.length === 0) return html``;
  const shown = r.errors.slice(0, SHOWN_ERRORS);
  const more = r.invalid - shown.length;
  return html`<h2 id="invalid-h">Invalid rows</h2><div class="wrap"><table aria-labelledby="invalid-h">
<thead><tr><th scope="col" class="num">line</th><th scope="col">error</th></tr></thead>
<tbody>${shown.map((e) => html`<tr><td class="num">${e.line}</td><td>${e.error}</td></tr>`)}</tbody></table></div>
${more > 0 ? html`<p class="muted">…and ${more} more invalid rows.</p>` : ''}`;
}

function planResult(r: ImportResult): Html {
  return html`<section aria-labelledby="result-h"><h2 id="result-h">Check: nothing was enqueued</h2>
<dl class="kv">
<dt>rows</dt><dd>${r.lines}</dd>
<dt>new</dt><dd>${r.accepted}</dd>
<dt>duplicate</dt><dd>${r.duplicate}</dd>
<dt>invalid</dt><dd class="${r.invalid > 0 ? 'bad' : ''}">${r.invalid}</dd>
<dt>held for approval</dt><dd>${r.wouldHold ? html`<span class="warn">yes</span>: ${r.holdReason ?? ''}` : 'no: it would be enqueued at once'}</dd>
</dl>${deviceRows(r)}${invalidRows(r)}</section>`;
}

/** Under a device policy: each new leaver's devices with the rule that matched and the actions. */
function deviceRows(r: ImportResult): Html {
  if (!r.devicePlans) return html``;
  const rows = r.devicePlans.flatMap((p) =>
    p.devices
      ? p.devices.length
        ? p.devices.map(
            (d) =>
              html`<tr><td>${p.user}</td><td>${p.profile}</td><td>${deviceLabel(d)}</td><td class="mono">${d.serialNumber ?? ''}</td><td>${ruleText(d)}</td><td>${actionsText(d)}</td></tr>`,
          )
        : [
            html`<tr><td>${p.user}</td><td>${p.profile}</td><td colspan="4" class="muted">no managed devices</td></tr>`,
          ]
      : [
          html`<tr><td>${p.user}</td><td>${p.profile}</td><td colspan="4" class="bad">${p.error ?? 'not read'}</td></tr>`,
        ],
  );
  return html`<h2 id="devices-h">Devices and actions</h2><div class="wrap"><table aria-labelledby="devices-h">
<thead><tr><th scope="col">user</th><th scope="col">device policy</th><th scope="col">device</th><th scope="col">serial</th><th scope="col">rule</th><th scope="col">actions</th></tr></thead>
<tbody>${rows}</tbody></table></div>
${r.devicePlansOmitted ? html`<p class="muted">${omittedText(r.devicePlansOmitted, MAX_PLAN_LEAVERS)}.</p>` : ''}`;
}

function submitResult(r: ImportResult): Html {
  const outcome = r.held
    ? html`<p class="warn" role="status">Held for approval as batch <strong class="mono">${r.held.id}</strong> (${r.held.count} users): ${r.holdReason ?? ''}. Nothing is enqueued until an operator approves it.</p>`
    : html`<p class="ok" role="status">Submitted: ${r.accepted} jobs enqueued.</p>`;
  return html`<section aria-labelledby="result-h"><h2 id="result-h">Submitted</h2>${outcome}
<dl class="kv">
<dt>rows</dt><dd>${r.lines}</dd>
<dt>${r.held ? 'held' : 'accepted'}</dt><dd>${r.held ? r.held.count : r.accepted}</dd>
<dt>duplicate</dt><dd>${r.duplicate}</dd>
<dt>invalid</dt><dd class="${r.invalid > 0 ? 'bad' : ''}">${r.invalid}</dd>
</dl>${invalidRows(r)}</section>`;
}

export const submitPages: FastifyPluginAsync<ConsoleEnv> = async (app, env) => {
  const { ctx, config } = env.deps;

  const page = (
    request: FastifyRequest,
    reply: FastifyReply,
    form: Partial<SubmitForm>,
    result: Html | string = '',
    error?: string,
  ) => {
    const body = html`<p>Paste a CSV with the header <code>user[,effectiveAt][,reason][,correlationId][,devicePolicy]</code>.
<strong>Check</strong> shows what would happen and enqueues nothing; <strong>Submit</strong> enqueues it.
More than ${config.guard.threshold} users (or too many within the guard's window) wait for an operator's approval.
Everything is recorded under your key's name, <strong>${actorOf(request)}</strong>.</p>
${error ? html`<p class="flash error" role="alert">${error}</p>` : ''}
<form method="post" action="/console/submit">${env.csrf(request)}
<div class="field"><label for="csv">Leavers (CSV)</label>
<textarea id="csv" name="csv" rows="14" cols="80" required spellcheck="false" aria-describedby="csv-help">${form.csv ?? ''}</textarea>
<small id="csv-help" class="muted">One leaver per line; the first line is the header.</small></div>
<div class="field"><label for="tz">Time zone (optional)</label>
<input id="tz" name="tz" maxlength="64" value="${form.tz ?? ''}" placeholder="Europe/Berlin" aria-describedby="tz-help">
<small id="tz-help" class="muted">IANA zone for leave dates without a UTC offset (2026-12-01 or 2026-12-01T17:00); without it such rows are invalid.</small></div>
<div class="actions">
<button type="submit" name="action" value="check">Check (nothing is enqueued)</button>
<button class="primary" type="submit" name="action" value="submit">Submit</button></div>
</form>
${result}`;
    return env.render(request, reply, 'Submit leavers', body);
  };

  app.get('/console/submit', { config: env.submit, schema: { hide: true } }, async (request, reply) =>
    page(request, reply, {}),
  );

  app.post(
    '/console/submit',
    {
      config: env.submit,
      // A pasted layoff file is larger than the console's other forms: the API's body limit.
      bodyLimit: config.api.bodyLimitBytes,
      handlerTimeout: 300_000,
      schema: { hide: true, body: submitBody },
    },
    async (request, reply) => {
      const form = request.body as SubmitForm;
      const tz = text(form.tz);
      const plan = form.action === 'check';
      // A Check under a device policy reads each new leaver's devices (GETs, read pacer).
      const reader = plan && config.devicePolicy ? graphDevicePlans(ctx) : null;
      try {
        const r = await importCsv(ctx, Readable.from([form.csv]), {
          ...(reader ? { devicePlans: reader.read } : {}),
          meta: { requestedBy: actorOf(request), source: 'import', ...consoleScope(request) },
          plan,
          // Producers only here: never tell one who else has a pending offboarding.
          producerView: true,
          ...(tz ? { tz } : {}),
          maxErrors: SHOWN_ERRORS,
        });
        request.log.info(
          { plan, lines: r.lines, accepted: r.accepted, invalid: r.invalid, held: r.held?.id },
          'console import',
        );
        // After a real submit the text is cleared, so a second click cannot send it again unseen.
        return page(request, reply, plan ? form : { tz: form.tz }, plan ? planResult(r) : submitResult(r));
      } catch (err) {
        if (
          !(err instanceof HeldLimitError) &&
          !(err instanceof DevicePolicyForbiddenError) &&
          !(err instanceof ImportFormatError) &&
          !(err instanceof InvalidTimeZoneError)
        ) {
          throw err;
        }
        request.log.info({ err: err.name }, 'console import refused');
        reply.status(
          err instanceof HeldLimitError ? 429 : err instanceof DevicePolicyForbiddenError ? 403 : 400,
        );
        return page(request, reply, form, '', err.message);
      } finally {
        await reader?.close();
      }
    },
  );
};
