// Dead letters: filter by reason, inspect, redrive or discard one, or all that match after a
// confirmation that shows the count. Each one goes through redriveDeadLetter / discardDeadLetter,
// exactly as DELETE and POST /v1/dead-letters/{id} do, so every item is audited on its own.
import type { FastifyPluginAsync } from 'fastify';
import { discardDeadLetter, redriveDeadLetter } from '../../../intake/redrive.js';
import { DEAD_LETTER_REASONS, type DeadLetterReason } from '../../../interfaces.js';
import type { QueueContext } from '../../../queue/context.js';
import { getDeadLetter, listDeadLetters } from '../../../records/dead-letter.js';
import { actorOf } from '../../auth/access.js';
import { ApiError, toHttpError } from '../../errors.js';
import { idParams } from '../../schemas/common.js';
import type { ConsoleEnv } from '../env.js';
import { type Html, html, query, time } from '../html.js';
import { formBody, NOTE, text } from './forms.js';

const PAGE = 50;

const HINTS: Record<DeadLetterReason, string> = {
  retries_exhausted: 'Graph kept failing (5xx, timeouts): redrive once Graph is healthy.',
  throttled_exhausted: 'Throttled too often: redrive once the load is lower.',
  bad_request: 'Graph refused the request (400): check the user id, then discard or fix and resubmit.',
  not_found: 'No such user in Entra (404): usually a wrong or already deleted account; discard with a note.',
  forbidden: 'Forbidden for this user (403): check Intune RBAC and scope tags.',
  invalid_job: 'The job data was unreadable: resubmit the leaver.',
  partial: "Some devices' actions failed (named in the record): redrive re-runs only those.",
};

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    reason: { type: 'string', enum: ['', ...DEAD_LETTER_REASONS] },
    offset: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 },
  },
} as const;

const confirmQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['action'],
  properties: {
    action: { type: 'string', enum: ['redrive', 'discard'] },
    reason: { type: 'string', enum: ['', ...DEAD_LETTER_REASONS] },
  },
} as const;

type Action = 'redrive' | 'discard';

/** Every dead letter matching the filter, in pages like `offboard dlq … --all`. */
async function matchingIds(ctx: QueueContext, reason?: DeadLetterReason): Promise<string[]> {
  const out: string[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await listDeadLetters(ctx, { ...(reason ? { reason } : {}), offset, limit: 1000 });
    out.push(...page.items.map((d) => d.id));
    if (page.items.length < 1000) return out;
  }
}

const listUrl = (reason?: string) => `/console/dead-letters${query({ reason })}`;

export const deadLetterPages: FastifyPluginAsync<ConsoleEnv> = async (app, env) => {
  const { ctx } = env.deps;

  app.get(
    '/console/dead-letters',
    { config: env.view, schema: { hide: true, querystring: listQuery } },
    async (request, reply) => {
      const q = request.query as { reason?: DeadLetterReason | ''; offset: number };
      const reason = q.reason || undefined;
      const page = await listDeadLetters(ctx, {
        ...(reason ? { reason } : {}),
        offset: q.offset,
        limit: PAGE,
      });
      const operator = env.operator(request);
      const filter = html`<form class="inline" method="get" action="/console/dead-letters">
<div class="field"><label for="reason">Reason</label><select id="reason" name="reason">
<option value="">any</option>${DEAD_LETTER_REASONS.map((r) => html`<option value="${r}"${r === reason ? html` selected` : ''}>${r}</option>`)}
</select></div><button type="submit">Filter</button></form>`;
      const bulk =
        operator && page.total > 0
          ? html`<div class="actions">
<a href="/console/dead-letters/confirm${query({ action: 'redrive', reason })}">Redrive all ${page.total} matching…</a>
<a href="/console/dead-letters/confirm${query({ action: 'discard', reason })}">Discard all ${page.total} matching…</a></div>`
          : '';
      const rows = page.items.map(
        (
          d,
        ) => html`<tr><td><a class="mono" href="/console/dead-letters/${d.id}">${d.id}</a></td><td>${d.original.user}</td>
<td>${d.reason}</td><td class="num">${d.lastStatus ?? '–'}</td><td class="mono">${d.graphCode ?? ''}</td><td class="mono">${d.requestId ?? ''}</td>
<td class="num">${d.attempts}</td><td>${time(d.deadLetteredAt)}</td>
${
  operator
    ? html`<td><form class="inline" method="post" action="/console/dead-letters/${d.id}/redrive">${env.csrf(request)}<input type="hidden" name="back" value="${reason ?? ''}"><button type="submit" aria-label="Redrive ${d.id} (${d.original.user})">Redrive</button></form>
<form class="inline" method="post" action="/console/dead-letters/${d.id}/discard">${env.csrf(request)}<input type="hidden" name="back" value="${reason ?? ''}"><button class="danger" type="submit" aria-label="Discard ${d.id} (${d.original.user})">Discard</button></form></td>`
    : ''
}</tr>`,
      );
      const pager = html`<p>${q.offset > 0 ? html`<a href="/console/dead-letters${query({ reason, offset: Math.max(0, q.offset - PAGE) })}">previous</a> · ` : ''}
${page.items.length ? q.offset + 1 : 0}–${q.offset + page.items.length} of ${page.total}${
        q.offset + page.items.length < page.total
          ? html` · <a href="/console/dead-letters${query({ reason, offset: q.offset + PAGE })}">next</a>`
          : ''
      }</p>`;
      const body = html`${filter}
${reason ? html`<p class="muted">${HINTS[reason]}</p>` : ''}
${bulk}
${
  page.total === 0
    ? html`<p role="status">No dead letters${reason ? html` with reason ${reason}` : ''}.</p>`
    : html`${pager}<div class="wrap"><table><caption class="visually-hidden">Dead letters, newest first</caption>
<thead><tr><th scope="col">dead letter</th><th scope="col">user</th><th scope="col">reason</th><th scope="col" class="num">last status</th><th scope="col">Graph code</th><th scope="col">request-id</th><th scope="col" class="num">attempts</th><th scope="col">dead-lettered</th>${operator ? html`<th scope="col">actions</th>` : ''}</tr></thead>
<tbody>${rows}</tbody></table></div>`
}`;
      return env.render(request, reply, 'Dead letters', body);
    },
  );

  app.get(
    '/console/dead-letters/confirm',
    { config: env.act, schema: { hide: true, querystring: confirmQuery } },
    async (request, reply) => {
      const q = request.query as { action: Action; reason?: DeadLetterReason | '' };
      const reason = q.reason || undefined;
      const count = (await matchingIds(ctx, reason)).length;
      const what = `${count} dead letter(s)${reason ? ` with reason ${reason}` : ''}`;
      const body =
        count === 0
          ? html`<p>Nothing matches any more. <a href="${listUrl(reason)}">Back to the list</a></p>`
          : html`<p role="alert"><strong>${q.action === 'redrive' ? 'Redrive' : 'Discard'} ${what}?</strong>
${q.action === 'redrive' ? 'Each goes back on the retire queue (added first, then removed).' : 'Each is removed for good, with an audit entry.'}</p>
<form class="stack" method="post" action="/console/dead-letters/bulk">${env.csrf(request)}
<input type="hidden" name="action" value="${q.action}"><input type="hidden" name="reason" value="${reason ?? ''}">
<input type="hidden" name="expected" value="${count}">
${q.action === 'discard' ? html`<div class="field"><label for="bulk-note">Note (kept in each audit entry)</label><input id="bulk-note" name="note" maxlength="500"></div>` : ''}
<div class="actions"><button class="${q.action === 'redrive' ? 'primary' : 'danger'}" type="submit">Yes, ${q.action} ${count}</button>
<a href="${listUrl(reason)}">Cancel</a></div></form>`;
      return env.render(request, reply, `Confirm: ${q.action} ${count}`, body);
    },
  );

  app.get(
    '/console/dead-letters/:id',
    { config: env.view, schema: { hide: true, params: idParams } },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const d = await getDeadLetter(ctx, id);
      const o = d.original;
      const actions: Html | string = env.operator(request)
        ? html`<h2>Act</h2><div class="actions">
<form class="inline" method="post" action="/console/dead-letters/${d.id}/redrive">${env.csrf(request)}<button class="primary" type="submit">Redrive</button></form>
<form class="inline" method="post" action="/console/dead-letters/${d.id}/discard">${env.csrf(request)}
<div class="field"><label for="discard-note">Note (why discard)</label><input id="discard-note" name="note" maxlength="500"></div>
<button class="danger" type="submit">Discard</button></form></div>`
        : '';
      const body = html`<dl class="kv">
<dt>user</dt><dd><a href="/console/lookup${query({ q: o.user })}">${o.user}</a></dd>
<dt>reason</dt><dd class="bad">${d.reason}</dd><dd class="muted">${HINTS[d.reason] ?? ''}</dd>
<dt>last HTTP status</dt><dd>${d.lastStatus ?? 'no answer'}</dd>
<dt>Graph error</dt><dd><span class="mono">${d.graphCode ?? '–'}</span> ${d.graphMessage ?? ''}</dd>
<dt>request-id</dt><dd class="mono">${d.requestId ?? '–'}</dd>
<dt>attempts</dt><dd>${d.attempts} (${d.throttledWaits} throttled waits), first ${time(d.firstAttemptAt)}</dd>
<dt>dead-lettered</dt><dd>${time(d.deadLetteredAt)}</dd>
<dt>original job</dt><dd class="mono">${d.originalJobId}</dd>
<dt>requested</dt><dd>${time(o.requestedAt)} by ${o.requestedBy} via ${o.source}${o.dryRun ? ' (dry run)' : ''}</dd>
<dt>correlation id</dt><dd class="mono">${o.correlationId}</dd>
${o.reason ? html`<dt>request reason</dt><dd>${o.reason}</dd>` : ''}
</dl>${actions}`;
      return env.render(request, reply, `Dead letter ${d.id}`, body);
    },
  );

  const backBody = { back: { type: 'string', enum: ['', ...DEAD_LETTER_REASONS] } };

  app.post(
    '/console/dead-letters/:id/redrive',
    { config: env.act, schema: { hide: true, params: idParams, body: formBody(backBody) } },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const { back } = request.body as { back?: string };
      return env.act$(request, reply, listUrl(back), async () => {
        const r = await redriveDeadLetter(ctx, id, actorOf(request));
        return `Redriven ${r.deadLetterId} → job ${r.jobId}${r.duplicate ? ' (a job was already pending)' : ''}.`;
      });
    },
  );

  app.post(
    '/console/dead-letters/:id/discard',
    {
      config: env.act,
      schema: { hide: true, params: idParams, body: formBody({ ...backBody, note: NOTE }) },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const { back, note } = request.body as { back?: string; note?: string };
      return env.act$(request, reply, listUrl(back), async () => {
        const r = await discardDeadLetter(ctx, id, actorOf(request), text(note));
        return `Discarded ${r.deadLetterId}.`;
      });
    },
  );

  app.post(
    '/console/dead-letters/bulk',
    {
      config: env.act,
      handlerTimeout: 300_000,
      schema: {
        hide: true,
        body: formBody(
          {
            action: { type: 'string', enum: ['redrive', 'discard'] },
            reason: { type: 'string', enum: ['', ...DEAD_LETTER_REASONS] },
            expected: { type: 'string', pattern: '^[0-9]{1,7}$' },
            note: NOTE,
          },
          ['action', 'expected'],
        ),
      },
    },
    async (request, reply) => {
      const b = request.body as {
        action: Action;
        reason?: DeadLetterReason | '';
        expected: string;
        note?: string;
      };
      const reason = b.reason || undefined;
      const ids = await matchingIds(ctx, reason);
      if (ids.length !== Number(b.expected)) {
        env.flash(request, {
          kind: 'error',
          text: `The number of matching dead letters changed from ${b.expected} to ${ids.length}; nothing was done. Confirm again.`,
        });
        return reply.redirect(`/console/dead-letters/confirm${query({ action: b.action, reason })}`, 303);
      }
      return env.act$(request, reply, listUrl(reason), async () => {
        const actor = actorOf(request);
        let done = 0;
        const failed: string[] = [];
        for (const id of ids) {
          try {
            if (b.action === 'redrive') await redriveDeadLetter(ctx, id, actor);
            else await discardDeadLetter(ctx, id, actor, text(b.note));
            done++;
          } catch (err) {
            // One that cannot be redriven (e.g. DRY_RUN on) must not stop the rest; it is reported.
            if (toHttpError(err, ctx.redis).status >= 500) throw err;
            failed.push(`${id}: ${(err as Error).message}`);
          }
        }
        const verb = b.action === 'redrive' ? 'Redriven' : 'Discarded';
        if (failed.length > 0) {
          throw new ApiError(
            409,
            'partial',
            `${verb} ${done} of ${ids.length}; ${failed.length} kept: ${failed.slice(0, 3).join('; ')}`,
          );
        }
        return `${verb} ${done} dead letter(s)${reason ? ` with reason ${reason}` : ''}.`;
      });
    },
  );
};
