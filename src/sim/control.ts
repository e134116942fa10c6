// Runtime controls of the simulator, shared by `control()` in-process and POST /_sim/control.
import { z } from 'zod';
import { deviceControlShape } from './graph/devices.js';
import { lifecycleControlSchema } from './graph/lifecycle.js';
import { usersControlSchema } from './graph/users.js';
import type { SimState } from './state.js';
import { type SimTenantControl, tenantsControlSchema } from './tenants/control.js';
import { PERMISSION_NAMES } from './tokens.js';
import type { SimControl } from './types.js';

const status = z.number().int().min(100).max(599);
const errorStatus = z.number().int().min(400).max(599);
const retryAfterFormat = z.enum(['seconds', 'fractional', 'http-date', 'none']);
const windowLimit = z.strictObject({ limit: z.number().int().min(1), windowMs: z.number().int().min(1) });
const appLimit = z.strictObject({
  limit: z.number().int().min(1),
  windowMs: z.number().int().min(1),
  retryAfter: retryAfterFormat.optional(),
});
const step = z.union([
  status,
  z.strictObject({
    status,
    retryAfter: z.string().max(64).optional(),
    hang: z.boolean().optional(),
    delayMs: z.number().int().min(0).max(600_000).optional(),
  }),
]);

export const simControlSchema = z.strictObject({
  latencyMs: z.number().int().min(0).max(600_000).optional(),
  limit: appLimit.nullable().optional(),
  tenantLimit: windowLimit.nullable().optional(),
  outage: z
    .strictObject({ status: errorStatus, retryAfter: z.string().max(64).optional() })
    .nullable()
    .optional(),
  hangAll: z.boolean().optional(),
  script: z.record(z.string().min(1).max(256), z.array(step).max(10_000)).optional(),
  token: z
    .strictObject({
      outage: z
        .union([
          errorStatus,
          z.strictObject({ status: errorStatus, retryAfter: z.string().max(64).optional() }),
        ])
        .nullable()
        .optional(),
      clientSecret: z.string().min(1).max(512).optional(),
      secretExpired: z.boolean().optional(),
      consentMissing: z.boolean().optional(),
      revokeAll: z.literal(true).optional(),
      revokeRefreshTokens: z.literal(true).optional(),
      lifetimeSec: z.number().int().min(1).max(86_400).optional(),
    })
    .optional(),
  deviceCode: z
    .strictObject({
      approve: z.string().min(1).max(64).optional(),
      deny: z.string().min(1).max(64).optional(),
      autoApproveMs: z.number().int().min(0).nullable().optional(),
    })
    .optional(),
  violationGraceMs: z.number().int().min(0).max(60_000).optional(),
  /** Take Graph permissions away (their endpoints answer 403) or give them back. */
  permissions: z
    .strictObject({
      deny: z.array(z.enum(PERMISSION_NAMES)).optional(),
      grant: z.array(z.enum(PERMISSION_NAMES)).optional(),
    })
    .optional(),
  /** Directory users with employeeLeaveDateTime (GET /v1.0/users). */
  users: usersControlSchema.optional(),
  /** The 1-based page of GET /v1.0/users that answers 503 while set; null ends it. */
  usersFailPage: z.number().int().min(1).nullable().optional(),
  /** Managed devices (GET /v1.0/users/{user}/managedDevices): per-user devices, behaviours, read limit. */
  ...deviceControlShape,
  /** Lifecycle Workflows resume: statuses for the next calls (then 204), or clear the record. */
  lifecycle: lifecycleControlSchema.optional(),
  /** Tenants behind the app, by Entra tenant id: added or changed (tenants/control.ts). */
  tenants: tenantsControlSchema.optional(),
  /** Calls per app across all tenants (Graph: 130,000 per 10 s); null = unlimited. */
  appLimitAcrossTenants: windowLimit.nullable().optional(),
  /** A token request for an unknown GUID authority creates that tenant. */
  autoCreateTenants: z.boolean().optional(),
});

/** Raised for a control patch that does not fit the schema. */
export class InvalidControlError extends Error {
  override readonly name = 'InvalidControlError';
}

export function parseControl(input: unknown): SimControl {
  const parsed = simControlSchema.safeParse(input);
  if (!parsed.success) throw new InvalidControlError(z.prettifyError(parsed.error));
  return parsed.data as SimControl;
}

/** Applies each key present; absent keys leave the setting unchanged. */
export function applyControl(state: SimState, patch: unknown): void {
  const p = parseControl(patch);
  if (p.latencyMs !== undefined) state.latencyMs = p.latencyMs;
  if (p.limit !== undefined) state.limit = p.limit;
  if (p.tenantLimit !== undefined) state.tenantLimit = p.tenantLimit;
  if (p.outage !== undefined) state.outage = p.outage;
  if (p.hangAll !== undefined) state.hangAll = p.hangAll;
  if (p.violationGraceMs !== undefined) state.violationGraceMs = p.violationGraceMs;
  if (p.script) state.behaviour.script(p.script);
  for (const name of p.permissions?.deny ?? []) state.deniedPermissions.add(name);
  for (const name of p.permissions?.grant ?? []) state.deniedPermissions.delete(name);
  if (p.users) state.directory.apply(p.users);
  if (p.usersFailPage !== undefined) state.directory.failPage = p.usersFailPage;
  applyDeviceControl(state, p);
  if (p.lifecycle) state.lifecycle.apply(p.lifecycle);
  if (p.tenants) applyTenantsControl(state, p.tenants);
  if (p.appLimitAcrossTenants !== undefined) state.tenants.appLimitAcrossTenants = p.appLimitAcrossTenants;
  if (p.autoCreateTenants !== undefined) state.tenants.autoCreate = p.autoCreateTenants;
  const t = p.token;
  if (t) {
    if (t.outage !== undefined)
      state.tokenOutage = typeof t.outage === 'number' ? { status: t.outage } : t.outage;
    if (t.clientSecret !== undefined) state.clientSecret = t.clientSecret;
    if (t.secretExpired !== undefined) state.secretExpired = t.secretExpired;
    if (t.consentMissing !== undefined) state.consentMissing = t.consentMissing;
    if (t.lifetimeSec !== undefined) state.tokens.setLifetime(t.lifetimeSec);
    if (t.revokeAll) state.tokens.revokeAll();
    if (t.revokeRefreshTokens) state.refreshTokens.revokeAll();
  }
  const d = p.deviceCode;
  if (d) {
    if (d.autoApproveMs !== undefined) state.deviceCodeAutoApproveMs = d.autoApproveMs;
    if (d.approve) state.deviceCodes.decide(d.approve, 'approved');
    if (d.deny) state.deviceCodes.decide(d.deny, 'denied');
  }
}

function applyDeviceControl(state: SimState, p: SimControl): void {
  const book = state.devices;
  if (p.retireDelayMs !== undefined) book.retireDelayMs = p.retireDelayMs;
  if (p.devicesPageSize !== undefined) book.pageSize = p.devicesPageSize;
  if (p.readLimit !== undefined) book.readLimit = p.readLimit;
  if (p.refuseSelect !== undefined) book.refusedFields = new Set(p.refuseSelect ?? []);
  for (const [user, spec] of Object.entries(p.devices ?? {})) book.setDevices(user, spec);
  for (const [key, behaviour] of Object.entries(p.deviceBehaviour ?? {})) book.setBehaviour(key, behaviour);
  if (p.readScript) book.script(p.readScript);
}

function applyTenantsControl(state: SimState, tenants: Record<string, SimTenantControl>): void {
  for (const [id, { users, ...settings }] of Object.entries(tenants)) {
    const tenant = state.tenants.upsert(id, settings);
    if (users) tenant.directory.apply(users);
  }
}

/** Clears counters, throttling state, announced windows, scripts and per-user counters. Settings stay. */
export function resetState(state: SimState): void {
  state.devices.reset();
  state.stats.reset();
  state.limiter.reset();
  state.windows.reset();
  state.behaviour.reset();
  state.lifecycle.reset();
  state.tenants.reset();
}
