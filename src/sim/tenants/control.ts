// The per-tenant part of the simulator's control (control.ts `tenants`): add a tenant or change one,
// keyed by its Entra tenant id. A limit set here overrides the simulator's own for that tenant.
// Schema only (no simulator state here: types.ts names it, state.ts names types.ts); control.ts applies it.
import { z } from 'zod';
import { usersControlSchema } from '../graph/users.js';
import { TENANT_ID } from './registry.js';
import { CONSENT_STATES, FOLLOW } from './tenant.js';

const windowLimit = z.strictObject({ limit: z.number().int().min(1), windowMs: z.number().int().min(1) });
const appLimit = windowLimit.extend({
  retryAfter: z.enum(['seconds', 'fractional', 'http-date', 'none']).optional(),
});

export const tenantControlSchema = z.strictObject({
  /** Retire actions per app in this tenant (Intune: 200 per 20 s); null = unlimited; `default` = the simulator's. */
  limit: z
    .union([appLimit, z.literal(FOLLOW)])
    .nullable()
    .optional(),
  /** Device reads per app in this tenant; null = unlimited; `default` = the simulator's. */
  readLimit: z
    .union([appLimit, z.literal(FOLLOW)])
    .nullable()
    .optional(),
  /** Retire actions across apps in this tenant (Intune: 400 per 20 s); null = unlimited; `default` = the simulator's. */
  tenantLimit: z
    .union([windowLimit, z.literal(FOLLOW)])
    .nullable()
    .optional(),
  consent: z.enum(CONSENT_STATES).optional(),
  /** Every retire call of this tenant answers 429 with this Retry-After (for `calls` calls, else until null). */
  throttle: z
    .strictObject({ retryAfter: z.string().min(1).max(64), calls: z.number().int().min(1).optional() })
    .nullable()
    .optional(),
  /** Other apps' calls per second into this tenant's cross-app budget. */
  otherAppsPerSec: z.number().min(0).max(100_000).optional(),
  /** This tenant's directory (GET /v1.0/users with its tokens). */
  users: usersControlSchema.optional(),
});
export type SimTenantControl = z.infer<typeof tenantControlSchema>;

export const tenantsControlSchema = z.record(
  z.string().regex(TENANT_ID, 'a tenant id (lower-case GUID)'),
  tenantControlSchema,
);
