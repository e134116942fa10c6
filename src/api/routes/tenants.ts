// Tenants (TENANTS_FILE): each tenant's circuit, gate and pace, and the operator's resume of ONE
// tenant — its circuit closes and its parked jobs run again; no other tenant is touched. A key scoped
// to tenants sees and acts on those only: any other name answers 404, exactly like a name that does
// not exist, so names never leak across tenants.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Config } from '../../config/load.js';
import { resumeTenant } from '../../tenants/circuit.js';
import { TENANT_SLUG } from '../../tenants/load.js';
import { tenantNames } from '../../tenants/registry.js';
import { tenantStatus } from '../../tenants/status.js';
import { actorOf, OPERATOR, VIEWER } from '../auth/access.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { AUTH_ERRORS, emptyBody, errors, looseObject } from '../schemas/common.js';

const nameParams = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: { type: 'string', pattern: TENANT_SLUG.source, description: 'Tenant slug' } },
} as const;

const tenantView = {
  title: 'TenantStatus',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'id', 'circuit', 'pausedUntil', 'factor', 'ratePerSecond', 'parked'],
  properties: {
    name: { type: 'string' },
    id: { type: 'string' },
    circuit: looseObject,
    pausedUntil: { type: ['string', 'null'] },
    factor: { type: 'number' },
    ratePerSecond: { type: 'number' },
    parked: { type: 'integer' },
  },
} as const;

/** The tenants this request's key may see (its scope; absent = all of them). */
function visibleTenants(config: Config, request: FastifyRequest): string[] {
  const all = tenantNames(config);
  const name = request.principal?.name;
  const scope = config.api.keys.find((k) => k.name === name)?.tenants;
  return scope ? all.filter((t) => scope.includes(t)) : all;
}

function visibleTenant(config: Config, request: FastifyRequest, name: string): string {
  if (!visibleTenants(config, request).includes(name))
    throw new ApiError(404, 'not_found', `no tenant named ${name}`);
  return name;
}

export const tenantRoutes: FastifyPluginAsync<ApiDeps> = async (app, { ctx }) => {
  app.get(
    '/v1/tenants',
    {
      config: { access: VIEWER, tenantAware: true },
      schema: {
        summary: 'Each tenant this key may see: circuit, Retry-After gate, pace and parked jobs',
        tags: ['tenants'],
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['tenants'],
            properties: { tenants: { type: 'array', items: tenantView } },
          },
          ...errors(...AUTH_ERRORS, 503),
        },
      },
    },
    async (request) => {
      const names = visibleTenants(ctx.config, request);
      const tenants = await Promise.all(names.map((n) => tenantStatus(ctx, n)));
      return { tenants: tenants.filter((t) => t !== undefined) };
    },
  );

  app.post(
    '/v1/tenants/:name/resume',
    {
      config: { access: OPERATOR, tenantAware: true },
      schema: {
        summary: 'Resume one tenant: close its circuit and run its parked jobs (audited); others untouched',
        tags: ['tenants'],
        params: nameParams,
        body: emptyBody,
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['tenant', 'circuitWasOpen', 'promoted', 'status'],
            properties: {
              tenant: { type: 'string' },
              circuitWasOpen: { type: 'boolean' },
              promoted: { type: 'integer' },
              status: tenantView,
            },
          },
          ...errors(400, ...AUTH_ERRORS, 404, 503),
        },
      },
    },
    async (request) => {
      const name = visibleTenant(ctx.config, request, (request.params as { name: string }).name);
      const r = await resumeTenant(ctx, name, actorOf(request));
      return { tenant: name, ...r, status: await tenantStatus(ctx, name) };
    },
  );
};
