// Everything the Graph and Entra fakes share: identity, credentials, controls and counters.
import { createHash, type KeyObject, randomBytes, X509Certificate } from 'node:crypto';
import { DeviceCodeStore } from './entra/device-codes.js';
import { RefreshTokenStore } from './entra/refresh-tokens.js';
import { UserBehaviour } from './graph/behaviour.js';
import { DeviceBook } from './graph/devices.js';
import { LifecycleBook } from './graph/lifecycle.js';
import { Limiter } from './graph/limiter.js';
import { SimDirectory } from './graph/users.js';
import { AnnouncedWindows } from './graph/windows.js';
import { StatsCollector } from './stats.js';
import { SimTenants } from './tenants/registry.js';
import { SimTenant } from './tenants/tenant.js';
import { TokenIssuer } from './tokens.js';
import type { AppLimit, SimulatorOptions, WindowLimit } from './types.js';

export const DEFAULT_TENANT_ID = '7d1f3c2a-5b4e-4c6d-9e8f-0a1b2c3d4e5f';
export const DEFAULT_CLIENT_ID = '3f2e1d0c-9b8a-4765-8432-10fedcba9876';

export interface ClientCertificate {
  publicKey: KeyObject;
  /** base64url SHA-1 thumbprint (JWT `x5t`). */
  x5t: string;
  /** base64url SHA-256 thumbprint (JWT `x5t#S256`). */
  x5tS256: string;
}

export interface SimState {
  readonly tenantId: string;
  readonly clientId: string;
  clientSecret: string;
  /** The secret is known but expired (AADSTS7000222). */
  secretExpired: boolean;
  /** Admin consent missing: app tokens carry no roles (Graph 403), user grants fail with AADSTS65001. */
  consentMissing: boolean;
  /** Graph permissions a test took away (control `permissions`): their endpoints answer 403. */
  deniedPermissions: Set<string>;
  federatedToken: string;
  certificate?: ClientCertificate;
  tokens: TokenIssuer;
  tokenOutage: { status: number; retryAfter?: string } | null;
  refreshTokens: RefreshTokenStore;
  deviceCodes: DeviceCodeStore;
  deviceCodeAutoApproveMs: number | null;
  deviceCodeIntervalSec: number;
  deviceCodeUser: string;
  latencyMs: number;
  limit: AppLimit | null;
  tenantLimit: WindowLimit | null;
  outage: { status: number; retryAfter?: string } | null;
  hangAll: boolean;
  violationGraceMs: number;
  behaviour: UserBehaviour;
  limiter: Limiter;
  windows: AnnouncedWindows;
  stats: StatsCollector;
  /** Users with employeeLeaveDateTime behind GET /v1.0/users (control `users`, `usersFailPage`). */
  directory: SimDirectory;
  /** Managed devices behind GET /v1.0/users/{user}/managedDevices, their read limiter and counters. */
  devices: DeviceBook;
  /** Lifecycle Workflows resume calls received, and scripted answers (control `lifecycle`). */
  lifecycle: LifecycleBook;
  /** Set once the Entra fake listens. */
  authorityHost: string;
  /** The tenants behind the app: the default one (tenantId) and any others (tenants/). */
  tenants: SimTenants;
}

export function createState(opts: SimulatorOptions): SimState {
  const tenantId = (opts.tenantId ?? DEFAULT_TENANT_ID).toLowerCase();
  const state: Omit<SimState, 'tenants'> & { tenants?: SimTenants } = {
    tenantId,
    clientId: (opts.clientId ?? DEFAULT_CLIENT_ID).toLowerCase(),
    clientSecret: opts.clientSecret ?? `sim~${randomBytes(24).toString('base64url')}`,
    secretExpired: false,
    consentMissing: false,
    deniedPermissions: new Set(),
    federatedToken: opts.federatedToken ?? `sim-federated.${randomBytes(24).toString('base64url')}`,
    certificate: opts.clientCertificatePem ? loadCertificate(opts.clientCertificatePem) : undefined,
    tokens: new TokenIssuer(opts.tokenLifetimeSec ?? 3600),
    tokenOutage: null,
    refreshTokens: new RefreshTokenStore(),
    deviceCodes: new DeviceCodeStore(),
    deviceCodeAutoApproveMs: opts.deviceCodeAutoApproveMs === undefined ? 200 : opts.deviceCodeAutoApproveMs,
    deviceCodeIntervalSec: opts.deviceCodeIntervalSec ?? 1,
    deviceCodeUser: opts.deviceCodeUser ?? 'admin@offboard-sim.onmicrosoft.com',
    latencyMs: opts.latencyMs ?? 0,
    limit: opts.limit ?? null,
    tenantLimit: opts.tenantLimit ?? null,
    outage: null,
    hangAll: false,
    violationGraceMs: opts.violationGraceMs ?? 100,
    behaviour: new UserBehaviour(),
    limiter: new Limiter(),
    windows: new AnnouncedWindows(),
    stats: new StatsCollector(),
    directory: new SimDirectory(),
    devices: new DeviceBook({
      retireDelayMs: opts.retireDelayMs,
      pageSize: opts.devicesPageSize,
      readLimit: opts.readLimit,
    }),
    lifecycle: new LifecycleBook(),
    authorityHost: '',
  };
  const defaults = () => ({
    limit: state.limit,
    readLimit: state.devices.readLimit,
    tenantLimit: state.tenantLimit,
  });
  // The default tenant shares the simulator's own windows and directory: one tenant = as before.
  const home = new SimTenant(
    tenantId,
    defaults,
    state.limiter,
    state.windows,
    state.devices.limiter,
    state.devices.windows,
    state.directory,
    true,
  );
  state.tenants = new SimTenants(home, (id) => new SimTenant(id, defaults));
  return state as SimState;
}

function loadCertificate(pem: string): ClientCertificate {
  const cert = new X509Certificate(pem);
  return {
    publicKey: cert.publicKey,
    x5t: createHash('sha1').update(cert.raw).digest('base64url'),
    x5tS256: createHash('sha256').update(cert.raw).digest('base64url'),
  };
}
