// Held batches: list, page through items, approve / reject through approveBatch and rejectBatch
// (the same calls as POST /v1/batches/{id}/approve|reject, so the two-person rule, the audit and
// the state checks are theirs). After an approval the page shows the jobs of the first users. Both
// forms carry the version the page showed (a hidden field): a batch that took users since is refused
// with its new count, so the button's "Approve N users" is exactly what it approves.
import type { FastifyPluginAsync } from 'fastify';
import { actionsText, deviceLabel, ruleText } from '../../../device-policy/describe.js';
import { sameActor } from '../../../guard/actor.js';
import { approveBatch, getBatch, listBatches, listBatchItems, rejectBatch } from '../../../guard/batches.js';
import { guardScope } from '../../../guard/scope.js';
import { BATCH_STATES, type BatchState, type BatchSummary, type StagedItem } from '../../../guard/types.js';
import { pendingJobIds } from '../../../intake/pending.js';
import { findUserJobs } from '../../../records/user-jobs.js';
import { actorOf } from '../../auth/access.js';
import { idParams } from '../../schemas/common.js';
import type { ConsoleEnv } from '../env.js';
import { type Html, html, query, time } from '../html.js';
import { formBody, NOTE, text } from './forms.js';

const PAGE = 50;

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { state: { type: 'string', enum: [...BATCH_STATES] } },
} as const;

const itemsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { offset: { type: 'integer', minimum: 0, maximum: 10_000_000, default: 0 } },
} as const;

/** The hidden field: the version the page showed. Absent, the guard refuses the decision. */
const VERSION = { type: 'string', pattern: '^[0-9]{1,9}$' } as const;

function formVersion(body: unknown): { version?: number } {
  const v = (body as { version?: string }).version;
  return v ? { version: Number(v) } : {};
}

const STATE_CLASS: Partial<Record<BatchState, string>> = { held: 'warn', approved: 'ok', rejected: 'bad' };

/** A wipe batch's devices × actions: what approving lets happen, per leaver and device. */
function deviceTable(items: StagedItem[]): Html {
  const rows = items.flatMap((i) =>
    (i.devices ?? []).map(
      (d) =>
        html`<tr><td>${i.r.user}</td><td>${deviceLabel(d)}</td><td class="mono">${d.serialNumber ?? ''}</td><td>${ruleText(d)}</td><td>${actionsText(d)}</td></tr>`,
    ),
  );
  return html`<h2 id="devices-h">Devices and actions</h2><div class="wrap"><table aria-labelledby="devices-h">
<thead><tr><th scope="col">user</th><th scope="col">device</th><th scope="col">serial</th><th scope="col">rule</th><th scope="col">actions</th></tr></thead>
<tbody>${rows}</tbody></table></div>`;
}

export const batchPages: FastifyPluginAsync<ConsoleEnv> = async (app, env) => {
  const { ctx, config } = env.deps;

  app.get(
    '/console/batches',
    { config: env.view, schema: { hide: true, querystring: listQuery } },
    async (request, reply) => {
      const { state } = request.query as { state?: BatchState };
      const batches = await listBatches(ctx, { ...(state ? { state } : {}), limit: 200 });
      const filter = html`<form class="inline" method="get" action="/console/batches">
<div class="field"><label for="state">State</label><select id="state" name="state">
<option value="">any</option>${BATCH_STATES.map((s) => html`<option value="${s}"${s === state ? html` selected` : ''}>${s}</option>`)}
</select></div><button type="submit">Filter</button></form>`;
      const rows = batches.map(
        (b) => html`<tr><td><a class="mono" href="/console/batches/${b.id}">${b.id}</a></td>
<td class="${STATE_CLASS[b.state] ?? ''}">${b.state}</td><td>${b.submittedBy}</td><td>${b.source}</td>
<td class="num">${b.count}</td><td>${b.dryRun ? 'yes' : 'no'}</td><td>${time(b.createdAt)}</td>
<td>${b.state === 'held' ? time(b.expiresAt) : html`${b.decidedBy ?? ''} ${time(b.decidedAt)}`}</td></tr>`,
      );
      const body = html`${filter}
<p>${config.guard.twoPerson ? 'Two-person rule is on: a batch must be approved by a different key than the one that submitted it.' : 'Two-person rule is off (GUARD_TWO_PERSON=false).'}
Submissions with more than ${config.guard.threshold} users wait here.</p>
${
  batches.length === 0
    ? html`<p class="muted">No batches${state ? html` in state ${state}` : ''}.</p>`
    : html`<div class="wrap"><table><caption class="visually-hidden">Batches, newest first</caption>
<thead><tr><th scope="col">batch</th><th scope="col">state</th><th scope="col">submitted by</th><th scope="col">source</th><th scope="col" class="num">users</th><th scope="col">dry run</th><th scope="col">submitted</th><th scope="col">expires / decided</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
}`;
      return env.render(request, reply, 'Held batches', body);
    },
  );

  async function batchJobs(b: BatchSummary): Promise<Html> {
    const rows: Html[] = [];
    for (const user of b.sample.slice(0, 10)) {
      const [pending, found] = await Promise.all([pendingJobIds(ctx, user), findUserJobs(ctx, user)]);
      const id = (b.dryRun ? pending.dryRun : pending.real) ?? found.ids[0];
      const job = id ? await ctx.retire.getJob(id) : undefined;
      const state = job ? await job.getState() : 'not found';
      rows.push(
        html`<tr><td><a href="/console/lookup${query({ q: user })}">${user}</a></td><td class="mono">${id ?? '–'}</td><td>${state}</td></tr>`,
      );
    }
    return html`<h2 id="jobs-h">Jobs of the first ${rows.length} users</h2><div class="wrap"><table aria-labelledby="jobs-h">
<thead><tr><th scope="col">user</th><th scope="col">job</th><th scope="col">state</th></tr></thead><tbody>${rows}</tbody></table></div>`;
  }

  app.get(
    '/console/batches/:id',
    { config: env.view, schema: { hide: true, params: idParams, querystring: itemsQuery } },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const { offset } = request.query as { offset: number };
      const b = await getBatch(ctx, id);
      const me = request.principal?.name ?? '';
      const items =
        b.state === 'held' || b.state === 'approving'
          ? await listBatchItems(ctx, id, { offset, limit: PAGE })
          : [];
      const mine = guardScope(ctx, b.tenant).twoPerson && sameActor(me, b.submittedBy);
      const version = html`<input type="hidden" name="version" value="${String(b.version)}">`;
      const actions =
        env.operator(request) && b.state === 'held'
          ? html`<h2>Decision</h2>
${mine ? html`<p class="warn" id="self-note">You (${me}) submitted this batch. The two-person rule needs another operator to approve it.</p>` : ''}
<div class="actions">
<form class="inline" method="post" action="/console/batches/${b.id}/approve">${env.csrf(request)}${version}
<button class="primary" type="submit"${mine ? html` aria-describedby="self-note"` : ''}>Approve ${b.count} users</button></form>
<form class="inline" method="post" action="/console/batches/${b.id}/reject">${env.csrf(request)}${version}
<div class="field"><label for="reject-reason">Reason for rejecting</label><input id="reject-reason" name="reason" maxlength="500"></div>
<button class="danger" type="submit">Reject</button></form></div>`
          : '';
      const pager = html`<p>${offset > 0 ? html`<a href="/console/batches/${b.id}${query({ offset: Math.max(0, offset - PAGE) })}">previous ${PAGE}</a> · ` : ''}
items ${items.length ? offset + 1 : 0}–${offset + items.length} of ${b.count}${
        offset + items.length < b.count
          ? html` · <a href="/console/batches/${b.id}${query({ offset: offset + PAGE })}">next ${PAGE}</a>`
          : ''
      }</p>`;
      const body = html`<dl class="kv">
<dt>state</dt><dd class="${STATE_CLASS[b.state] ?? ''}">${b.state}</dd>
<dt>version</dt><dd>${String(b.version)}</dd>
<dt>submitted by</dt><dd><strong>${b.submittedBy}</strong> via ${b.source}, ${time(b.createdAt)}</dd>
<dt>users</dt><dd>${b.count} (plus ${b.invalid} invalid and ${b.duplicate} repeated items not in the batch)</dd>
<dt>dry run</dt><dd>${b.dryRun ? 'yes: every job records dry_run' : 'no'}</dd>
${b.kind === 'wipe' ? html`<dt>held because</dt><dd class="warn">${b.devices ?? 0} devices would be wiped or deleted: more than GUARD_WIPE_THRESHOLD=${String(config.guard.wipeThreshold ?? 10)} within the guard's window</dd>` : ''}
${b.state === 'held' ? html`<dt>expires</dt><dd>${time(b.expiresAt)}</dd>` : ''}
${b.decidedBy ? html`<dt>decided</dt><dd>${b.state} by ${b.decidedBy}, ${time(b.decidedAt)}${b.reason ? html`: ${b.reason}` : ''}</dd>` : ''}
${b.result ? html`<dt>result</dt><dd>${b.result.accepted} accepted, ${b.result.duplicate} already pending, ${b.result.invalid} invalid</dd>` : ''}
</dl>
${actions}
${
  items.length > 0
    ? html`<h2 id="items-h">Items</h2>${pager}<div class="wrap"><table aria-labelledby="items-h">
<thead><tr><th scope="col" class="num">#</th><th scope="col">user</th><th scope="col">leave moment</th><th scope="col">reason</th><th scope="col">correlation id</th></tr></thead>
<tbody>${items.map((i) => html`<tr><td class="num">${i.n}</td><td>${i.r.user}</td><td>${time(i.r.effectiveAt)}</td><td>${i.r.reason ?? ''}</td><td class="mono">${i.r.correlationId ?? ''}</td></tr>`)}</tbody></table></div>${b.kind === 'wipe' ? deviceTable(items) : ''}`
    : ''
}
${b.state === 'approved' || b.state === 'approving' ? await batchJobs(b) : ''}`;
      return env.render(request, reply, `Batch ${b.id}`, body);
    },
  );

  app.post(
    '/console/batches/:id/approve',
    // Approving enqueues the whole batch, like the API route.
    {
      config: env.act,
      handlerTimeout: 300_000,
      schema: { hide: true, params: idParams, body: formBody({ version: VERSION }) },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      return env.act$(request, reply, `/console/batches/${id}`, async () => {
        const { batch } = await approveBatch(ctx, id, actorOf(request), {
          results: false,
          ...formVersion(request.body),
        });
        const r = batch.result;
        return `Approved batch ${batch.id}: ${r ? `${r.accepted} jobs enqueued, ${r.duplicate} already pending, ${r.invalid} invalid` : `${batch.count} users`}.`;
      });
    },
  );

  app.post(
    '/console/batches/:id/reject',
    {
      config: env.act,
      schema: { hide: true, params: idParams, body: formBody({ reason: NOTE, version: VERSION }) },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      return env.act$(request, reply, `/console/batches/${id}`, async () => {
        const batch = await rejectBatch(ctx, id, actorOf(request), {
          reason: text((request.body as { reason?: string }).reason),
          ...formVersion(request.body),
        });
        return `Rejected batch ${batch.id}: nothing of it was enqueued.`;
      });
    },
  );
};
