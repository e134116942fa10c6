// Leaver lookup by UPN, object id, job id or correlation id: each job with its timeline (requested,
// held, approved, attempts with status and request-id, outcome) and, while it is pending, cancel
// and reschedule. Reads go through the same readers as GET /v1/offboardings.
import type { FastifyPluginAsync } from 'fastify';
import { EvidenceNotFoundError, NothingToVerifyError, requestReverify } from '../../../evidence/schedule.js';
import type { EvidenceView } from '../../../evidence/view.js';
import { getBatch } from '../../../guard/batches.js';
import { cancelJob } from '../../../intake/cancel.js';
import { pendingJobIds } from '../../../intake/pending.js';
import { rescheduleJob } from '../../../intake/reschedule.js';
import type { AuditRecord } from '../../../interfaces.js';
import type { QueueContext } from '../../../queue/context.js';
import { isValidId } from '../../../queue/ids.js';
import { readAudit } from '../../../records/audit.js';
import { findUserJobs } from '../../../records/user-jobs.js';
import { isValidTimeZone } from '../../../values/timezone.js';
import { normaliseUser } from '../../../values/user.js';
import { actorOf } from '../../auth/access.js';
import { ApiError } from '../../errors.js';
import { type JobView, jobView } from '../../job-view.js';
import type { ConsoleEnv } from '../env.js';
import { type Html, html, join, query, time } from '../html.js';
import { formBody, NOTE, text } from './forms.js';

/** Audit entries searched for a correlation id, newest first (a layoff day writes ~40,000). */
export const CORRELATION_SCAN = 50_000;
const MAX_JOBS = 50;
const PENDING = new Set(['waiting', 'delayed', 'prioritized', 'paused']);

const lookupQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { q: { type: 'string', maxLength: 320 } },
} as const;

const jobParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', maxLength: 128 } },
} as const;

export interface LookupResult {
  /** How the query was understood. */
  as: string[];
  ids: string[];
  histories: Map<string, AuditRecord[]>;
}

async function byCorrelation(ctx: QueueContext, q: string): Promise<string[]> {
  const ids: string[] = [];
  let before: string | undefined;
  for (let scanned = 0; scanned < CORRELATION_SCAN; ) {
    const page = await readAudit(ctx, { count: 5000, ...(before ? { before } : {}) });
    for (const e of page) if (e.correlationId === q && e.jobId && !ids.includes(e.jobId)) ids.push(e.jobId);
    scanned += page.length;
    if (page.length < 5000 || ids.length >= MAX_JOBS) break;
    before = page.at(-1)?.id;
  }
  return ids;
}

export async function lookup(ctx: QueueContext, raw: string): Promise<LookupResult> {
  const q = raw.trim();
  const out: LookupResult = { as: [], ids: [], histories: new Map() };
  const add = (id: string | null | undefined) => {
    if (id && !out.ids.includes(id)) out.ids.push(id);
  };
  let user: string | undefined;
  try {
    user = normaliseUser(q);
  } catch {
    // not a user: a job id or a correlation id
  }
  if (user) {
    const found = await findUserJobs(ctx, user);
    // A UPN also finds the jobs keyed by its object ids (records/user-jobs.ts).
    for (const pending of await Promise.all(found.users.map((u) => pendingJobIds(ctx, u)))) {
      add(pending.real);
      add(pending.dryRun);
    }
    for (const id of found.ids) add(id);
    if (out.ids.length > 0) {
      const aliases = found.users.slice(1);
      out.as.push(aliases.length > 0 ? `user ${user} (object id ${aliases.join(', ')})` : `user ${user}`);
    }
  }
  if (isValidId(q)) {
    const id = q.startsWith('dl-') ? q.slice(3) : q;
    const [job, dl] = await Promise.all([ctx.retire.getJob(id), ctx.deadLetter.getJob(`dl-${id}`)]);
    if (job?.data?.user || dl?.data?.original) {
      add(id);
      out.as.push(`job ${id}`);
    }
  }
  if (out.ids.length === 0 && q.length > 0) {
    for (const id of await byCorrelation(ctx, q)) add(id);
    if (out.ids.length > 0) out.as.push(`correlation id ${q}`);
  }
  out.ids = out.ids.slice(0, MAX_JOBS);
  return out;
}

function detailText(details: Record<string, unknown> | undefined): string {
  if (!details) return '';
  return Object.entries(details)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' · ');
}

const STATE_CLASS: Record<string, string> = {
  completed: 'ok',
  'dead-lettered': 'bad',
  failed: 'bad',
  active: 'warn',
};

async function timeline(ctx: QueueContext, v: JobView): Promise<Html> {
  const items: { at: string; label: Html }[] = [];
  if (v.data.batchId) {
    const batch = await getBatch(ctx, v.data.batchId).catch(() => null);
    if (batch) {
      items.push({
        at: batch.createdAt,
        label: html`<strong>held</strong> in batch <a href="/console/batches/${batch.id}">${batch.id}</a> (submitted by ${batch.submittedBy}, ${batch.count} users)`,
      });
      if (batch.decidedAt) {
        items.push({
          at: batch.decidedAt,
          label: html`<strong>${batch.state}</strong> by ${batch.decidedBy ?? '?'}${batch.reason ? html`: ${batch.reason}` : ''}`,
        });
      }
    }
  }
  for (const e of v.history) {
    const d = e.details as Record<string, unknown> | undefined;
    const label =
      e.type === 'attempt'
        ? html`<strong>attempt ${String(d?.call ?? '')}</strong>: HTTP ${String(d?.status ?? 'no answer')}${d?.requestId ? html` · request-id <span class="mono">${String(d.requestId)}</span>` : ''}${d?.error ? html` · ${String(d.error)}` : ''}${d?.durationMs !== undefined ? html` · ${String(d.durationMs)} ms` : ''}`
        : html`<strong>${e.type}</strong> by ${e.actor}${d && Object.keys(d).length ? html` · <span class="muted">${detailText(d)}</span>` : ''}`;
    items.push({ at: e.at, label });
  }
  items.sort((a, b) => a.at.localeCompare(b.at));
  if (items.length === 0) return html`<p class="muted">No history recorded.</p>`;
  return html`<ol class="timeline">${items.map((i) => html`<li>${time(i.at)} — ${i.label}</li>`)}</ol>`;
}

const RESULT_CLASS: Record<string, string> = {
  retired: 'ok',
  pending: 'warn',
  failed: 'bad',
  not_retired: 'bad',
};
const VERIFICATION_CLASS: Record<string, string> = { verified: 'ok', pending: 'warn', unverified: 'bad' };

/** Proof of retirement: each device before the action beside what became of it after. */
function evidenceBlock(e: EvidenceView): Html {
  const v = e.verification;
  const summary = html`<p>Verification <strong class="${VERIFICATION_CLASS[v.state] ?? ''}">${v.state}</strong>
${v.checks} check(s)${v.lastCheckedAt ? html`, last ${time(v.lastCheckedAt)}` : ''}${v.nextCheckAt && v.state === 'pending' ? html`, next ${time(v.nextCheckAt)}` : ''}${v.deadline ? html`, until ${time(v.deadline)}` : ''}${v.endedAt ? html`, ended ${time(v.endedAt)}` : ''} ·
inventory ${time(e.inventoriedAt)}${e.action ? html` · action ${time(e.action.at)} HTTP ${e.action.status}${e.action.requestId ? html` request-id <span class="mono">${e.action.requestId}</span>` : ''}` : html` · no action sent (${e.outcome})`}</p>`;
  if (e.devices.length === 0) return html`${summary}<p class="muted">No managed devices at inventory.</p>`;
  const rows = e.devices.map(
    (
      d,
    ) => html`<tr><td class="mono">${d.id}</td><td>${d.deviceName ?? '–'}</td><td>${d.operatingSystem ?? '–'} ${d.osVersion ?? ''}</td><td class="mono">${d.serialNumber ?? '–'}</td><td>${d.managedDeviceOwnerType ?? '–'}</td><td>${d.managementState ?? '–'}</td>
<td>${d.after ? (d.after.stateAfter ?? html`<span class="muted">gone</span>`) : html`<span class="muted">not checked yet</span>`}</td><td class="${RESULT_CLASS[d.after?.result ?? ''] ?? ''}">${d.after?.result ?? '–'}</td><td>${time(d.after?.checkedAt)}</td></tr>`,
  );
  return html`${summary}<div class="wrap"><table><caption class="visually-hidden">Devices before and after</caption>
<thead><tr><th scope="col">device id</th><th scope="col">name</th><th scope="col">OS</th><th scope="col">serial</th><th scope="col">owner</th><th scope="col">before</th><th scope="col">after</th><th scope="col">result</th><th scope="col">checked</th></tr></thead>
<tbody>${rows}</tbody></table></div>`;
}

/** Re-verify (operators): once a verification has ended, or for a job whose reads never started. */
function verifyAction(env: ConsoleEnv, request: Parameters<ConsoleEnv['csrf']>[0], v: JobView): Html {
  const e = v.evidence;
  if (!env.operator(request) || !e?.action || e.devices.length === 0 || e.verification.state === 'pending') {
    return html``;
  }
  return html`<form class="inline" method="post" action="/console/jobs/${v.id}/verify">${env.csrf(request)}
<button type="submit">Verify the devices again</button></form>`;
}

function jobActions(env: ConsoleEnv, request: Parameters<ConsoleEnv['csrf']>[0], v: JobView): Html {
  if (!env.operator(request) || !PENDING.has(v.state)) return html``;
  const id = v.id;
  return html`<div class="actions">
<form class="inline" method="post" action="/console/jobs/${id}/cancel">${env.csrf(request)}
<div class="field"><label for="cancel-note-${id}">Note (why cancel)</label><input id="cancel-note-${id}" name="note" maxlength="500"></div>
<button class="danger" type="submit">Cancel this job</button></form>
${
  v.state === 'delayed'
    ? html`<form class="inline" method="post" action="/console/jobs/${id}/reschedule">${env.csrf(request)}
<div class="field"><label for="when-${id}">New leave moment</label><input id="when-${id}" name="effectiveAt" type="datetime-local" required></div>
<div class="field"><label for="tz-${id}">Time zone (IANA)</label><input id="tz-${id}" name="tz" value="UTC" maxlength="64"></div>
<button type="submit">Reschedule</button></form>`
    : ''
}</div>`;
}

async function jobCard(
  env: ConsoleEnv,
  request: Parameters<ConsoleEnv['csrf']>[0],
  v: JobView,
): Promise<Html> {
  const { ctx } = env.deps;
  const rec = v.record;
  const dl = v.deadLetter;
  return html`<section class="card" aria-labelledby="job-${v.id}">
<h2 id="job-${v.id}">${v.user} · <span class="${STATE_CLASS[v.state] ?? ''}">${v.state}</span>${v.data.dryRun ? ' (dry run)' : ''}</h2>
<dl class="kv">
<dt>job id</dt><dd class="mono">${v.id}</dd>
<dt>requested</dt><dd>${time(v.data.requestedAt)} by ${v.data.requestedBy} via ${v.data.source}</dd>
${v.data.effectiveAt ? html`<dt>leave moment</dt><dd>${time(v.data.effectiveAt)}</dd>` : ''}
<dt>correlation id</dt><dd class="mono">${v.data.correlationId}</dd>
${v.data.reason ? html`<dt>reason</dt><dd>${v.data.reason}</dd>` : ''}
<dt>attempts</dt><dd>${v.attempts.made} durable, ${v.attempts.graphCalls} Graph call(s), ${v.attempts.throttledWaits} throttled wait(s)</dd>
${rec ? html`<dt>outcome</dt><dd class="ok">${rec.outcome} at ${time(rec.finishedAt)}${rec.requestId ? html` · request-id <span class="mono">${rec.requestId}</span>` : ''}</dd>` : ''}
${dl ? html`<dt>dead letter</dt><dd class="bad"><a href="/console/dead-letters/${dl.id}">${dl.reason}</a>, last status ${dl.lastStatus ?? '–'}${dl.requestId ? html` · request-id <span class="mono">${dl.requestId}</span>` : ''}</dd>` : ''}
</dl>
${v.evidence ? html`<details open><summary>Evidence: devices before and after</summary>${evidenceBlock(v.evidence)}${verifyAction(env, request, v)}</details>` : ''}
<details open><summary>Timeline</summary>${await timeline(ctx, v)}</details>
${jobActions(env, request, v)}
</section>`;
}

export const lookupPages: FastifyPluginAsync<ConsoleEnv> = async (app, env) => {
  const { ctx } = env.deps;

  app.get(
    '/console/lookup',
    { config: env.view, schema: { hide: true, querystring: lookupQuery } },
    async (request, reply) => {
      const q = ((request.query as { q?: string }).q ?? '').trim();
      const form = html`<form class="inline" method="get" action="/console/lookup" role="search">
<div class="field"><label for="q">UPN, object id, job id or correlation id</label>
<input id="q" name="q" value="${q}" maxlength="320" required></div>
<button class="primary" type="submit">Look up</button></form>`;
      if (!q) return env.render(request, reply, 'Leaver lookup', form);
      const found = await lookup(ctx, q);
      const cards: Html[] = [];
      for (const id of found.ids) {
        try {
          cards.push(await jobCard(env, request, await jobView(ctx, id)));
        } catch (err) {
          if (!(err instanceof ApiError && err.status === 404)) throw err;
        }
      }
      const body = html`${form}
${
  cards.length === 0
    ? html`<p role="status">Nothing found for <strong>${q}</strong> (as a user, a job id, or a correlation id among the latest ${CORRELATION_SCAN.toLocaleString('en')} audit entries).</p>`
    : html`<p role="status">${cards.length} job(s) for ${found.as.join(', ')}, newest first.</p>${join(cards)}`
}`;
      return env.render(request, reply, 'Leaver lookup', body);
    },
  );

  const back = (user: string) => `/console/lookup${query({ q: user })}`;

  app.post(
    '/console/jobs/:id/cancel',
    { config: env.act, schema: { hide: true, params: jobParams, body: formBody({ note: NOTE }) } },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const job = isValidId(id) ? await ctx.retire.getJob(id) : undefined;
      return env.act$(request, reply, back(job?.data?.user ?? id), async () => {
        const r = await cancelJob(ctx, id, actorOf(request), text((request.body as { note?: string }).note));
        return `Cancelled job ${r.id} for ${r.user} (it was ${r.previousState}).`;
      });
    },
  );

  app.post(
    '/console/jobs/:id/verify',
    { config: env.act, schema: { hide: true, params: jobParams, body: formBody({}) } },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      return env.act$(request, reply, `/console/lookup${query({ q: id })}`, async () => {
        if (!isValidId(id)) throw new ApiError(400, 'invalid_request', 'not a job id');
        try {
          const r = await requestReverify(ctx, id, actorOf(request), ctx.config);
          return `Verifying the devices of job ${r.jobId} (${r.user}) again, until ${r.deadline}.`;
        } catch (err) {
          if (err instanceof EvidenceNotFoundError || err instanceof NothingToVerifyError) {
            throw new ApiError(409, 'nothing_to_verify', err.message);
          }
          throw err;
        }
      });
    },
  );

  app.post(
    '/console/jobs/:id/reschedule',
    {
      config: env.act,
      schema: {
        hide: true,
        params: jobParams,
        body: formBody(
          {
            effectiveAt: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[0-9T:.+\\-Z ]+$' },
            tz: { type: 'string', maxLength: 64, pattern: '^[A-Za-z0-9_+\\-/]*$' },
          },
          ['effectiveAt'],
        ),
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const { effectiveAt, tz } = request.body as { effectiveAt: string; tz?: string };
      const job = isValidId(id) ? await ctx.retire.getJob(id) : undefined;
      return env.act$(request, reply, back(job?.data?.user ?? id), async () => {
        const zone = text(tz) ?? 'UTC';
        if (!isValidTimeZone(zone)) {
          throw new ApiError(
            400,
            'invalid_request',
            `unknown time zone "${zone}" (use an IANA name such as Europe/Berlin or UTC)`,
          );
        }
        const r = await rescheduleJob(ctx, id, effectiveAt, actorOf(request), { tz: zone });
        return `Job ${r.id} for ${r.user} now leaves at ${r.effectiveAt} (${r.state}).`;
      });
    },
  );
};
