// Tenants (TENANTS_FILE): one row per tenant the signed-in key may see, with its pace, Retry-After
// gate, circuit, backlog and ETA, and a filter by name or by trouble. A tenant-scoped key lands here
// and sees its own tenants only (the route filters; src/tenants/scope.ts).
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { readAllBatches } from '../../../guard/store.js';
import type { QueueContext } from '../../../queue/context.js';
import { type TenantOverview, tenantOverviews } from '../../../tenants/overview.js';
import { visibleTenants } from '../../../tenants/scope.js';
import { tenantStateReader } from '../../../tenants/state-reader.js';
import { formatDuration } from '../duration.js';
import type { ConsoleEnv } from '../env.js';
import { type Html, html, time } from '../html.js';

const tenantsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    tenant: { type: 'string', maxLength: 63, pattern: '^[a-z0-9-]*$' },
    show: { type: 'string', enum: ['all', 'attention'], default: 'all' },
  },
} as const;

function needsAttention(t: TenantOverview): boolean {
  return t.circuitOpen || t.pausedUntil !== null;
}

/** The rows the key may see, filtered by name (substring) and by trouble. */
export async function tenantRows(
  ctx: QueueContext,
  request: FastifyRequest,
  filter: { tenant?: string; show?: 'all' | 'attention' } = {},
): Promise<TenantOverview[]> {
  const visible = visibleTenants(ctx.config, request.principal);
  const only = filter.tenant ? visible.filter((n) => n.includes(filter.tenant as string)) : visible;
  if (only.length === 0) return [];
  const held = (await readAllBatches(ctx, 1000)).filter((b) => b.state === 'held');
  const rows = await tenantOverviews(ctx, { only, state: tenantStateReader, heldBatches: held });
  return filter.show === 'attention' ? rows.filter(needsAttention) : rows;
}

/** The per-tenant table (also shown under the overview's cards). */
export function tenantTable(rows: TenantOverview[]): Html {
  if (rows.length === 0) return html`<p class="muted" id="tenants-empty">No tenant matches.</p>`;
  return html`<div class="wrap"><table id="tenants-table" aria-labelledby="tenants-h"><thead><tr>
<th scope="col">tenant</th><th scope="col" class="num">pace /s</th><th scope="col">Retry-After gate</th><th scope="col">circuit</th>
<th scope="col" class="num">waiting</th><th scope="col" class="num">delayed</th><th scope="col" class="num">active</th>
<th scope="col" class="num">dead letters</th><th scope="col" class="num">held</th><th scope="col">ETA</th></tr></thead>
<tbody>${rows.map(
    (t) => html`<tr data-tenant="${t.tenant}"><th scope="row">${t.tenant}</th>
<td class="num">${t.ratePerSecond}</td>
<td>${t.pausedUntil ? html`<span class="warn">closed until ${time(t.pausedUntil)}</span>` : html`<span class="ok">open</span>`}</td>
<td>${t.circuitOpen ? html`<span class="bad">open</span>${t.circuitCode ? html` <span class="mono">${t.circuitCode}</span>` : ''}${t.parked ? html` (${t.parked} parked)` : ''}` : html`<span class="ok">closed</span>`}</td>
<td class="num">${t.backlog.waiting}</td><td class="num">${t.backlog.delayed}</td><td class="num">${t.backlog.active}</td>
<td class="num">${t.deadLetters}</td><td class="num">${t.heldBatches}</td>
<td>${t.etaSeconds === null ? html`<span class="warn">stopped</span>` : formatDuration(t.etaSeconds)}</td></tr>`,
  )}</tbody></table></div>${rows.some((r) => r.truncated) ? html`<p class="muted">Counts stop at 50,000 jobs per state: they are lower bounds.</p>` : ''}`;
}

export const tenantPages: FastifyPluginAsync<ConsoleEnv> = async (app, env) => {
  const { ctx } = env.deps;
  app.get(
    '/console/tenants',
    { config: { ...env.view, tenantAware: true }, schema: { hide: true, querystring: tenantsQuery } },
    async (request, reply) => {
      const q = request.query as { tenant?: string; show: 'all' | 'attention' };
      const rows = await tenantRows(ctx, request, q);
      const body = html`
<form class="filters" method="get" action="/console/tenants" role="search">
<div class="field"><label for="tenant-filter">Tenant name contains</label>
<input id="tenant-filter" name="tenant" maxlength="63" pattern="[a-z0-9-]*" value="${q.tenant ?? ''}"></div>
<div class="field"><label for="tenant-show">Show</label>
<select id="tenant-show" name="show"><option value="all"${q.show === 'all' ? html` selected` : ''}>every tenant</option>
<option value="attention"${q.show === 'attention' ? html` selected` : ''}>needing attention (circuit open or Retry-After)</option></select></div>
<button type="submit">Filter</button></form>
<h2 id="tenants-h">Tenants (${rows.length})</h2>
${tenantTable(rows)}
<p class="muted">Pace: writes per second the tenant's pacer allows now. ETA: its waiting and active jobs at that pace, after its gate.</p>`;
      return env.render(request, reply, 'Tenants', body);
    },
  );
};
