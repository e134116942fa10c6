// One customer tenant of a multi-tenant deployment (TENANTS_FILE). Defined beside the configuration
// that loads it (src/config/tenant-config.ts), so config/ never imports tenants/.
export type { TenantConfig } from '../config/tenant-config.js';
