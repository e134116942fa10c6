// TENANTS_FILE loading and validation (the agreed entry point); the loader lives with the rest of the
// configuration (src/config/tenants-file.ts) so config/ never imports tenants/.
export {
  loadTenants,
  readTenants,
  TENANT_SLUG,
  type TenantsLoadOptions,
  tenantSecret,
} from '../config/tenants-file.js';
