// The seam between the operators' views (overview.ts) and per-tenant pacing (tcore's
// src/tenants/status.ts): which live state a tenant row shows. Until per-tenant pacers exist
// this is the configured rate with no gate and no circuit.
import { configuredState, type TenantStateReader } from './overview.js';

export const tenantStateReader: TenantStateReader = configuredState;
