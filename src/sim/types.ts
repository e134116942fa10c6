// Shapes of the Graph + Entra simulator: its options, runtime controls and statistics.
import type { DeviceBehaviour, DeviceView, ReadStats, SimDeviceInput } from './graph/devices.js';
import type { LifecycleCall } from './graph/lifecycle.js';
import type { AppLimit, ScriptStep, WindowLimit } from './limits.js';
import type { SimTenantControl } from './tenants/control.js';
import type { TenantStats } from './tenants/stats.js';

export type { AppLimit, RetryAfterFormat, ScriptStep, WindowLimit } from './limits.js';
export type { SimTenantControl } from './tenants/control.js';
export type { TenantStats } from './tenants/stats.js';
export type { ConsentState } from './tenants/tenant.js';

export interface SimulatorOptions {
  /** Graph fake (plain http on 127.0.0.1); 0 (default) = a free port. */
  graphPort?: number;
  /** Entra fake (https on 127.0.0.1); 0 (default) = a free port. */
  authPort?: number;
  /** Added before each Graph answer (default 0). */
  latencyMs?: number;
  /** Intune-like sliding window per app → 429 (default null = unlimited). */
  limit?: AppLimit | null;
  /** Tenant-wide sliding window across apps (default null). */
  tenantLimit?: WindowLimit | null;
  tenantId?: string;
  clientId?: string;
  /** Default: random. */
  clientSecret?: string;
  /** Access-token lifetime (default 3600). MSAL renews tokens within 5 min of expiry. */
  tokenLifetimeSec?: number;
  /**
   * Calls arriving this soon after a 429 was sent count as already on the wire, not as violations
   * (default 100 ms: a loaded client needs an event-loop turn and a Redis round trip to close its gate).
   */
  violationGraceMs?: number;
  /** Device codes approve themselves after this (default 200); null = only via control. */
  deviceCodeAutoApproveMs?: number | null;
  /** `interval` announced by the device-code endpoint, seconds (default 1). */
  deviceCodeIntervalSec?: number;
  /** The assertion accepted as a workload-identity client_assertion (default random). */
  federatedToken?: string;
  /** Certificate whose private key may sign client_assertion JWTs. */
  clientCertificatePem?: string;
  /** Where the TLS certificate lives (reused when present). Default: OFFBOARD_SIM_TLS_DIR, else a new temp dir. */
  tlsDir?: string;
  /** UPN of the user who approves device codes (default `admin@<tenant domain>`). */
  deviceCodeUser?: string;
  /** Sliding window of device reads per app → 429 (default null = unlimited); apart from `limit`. */
  readLimit?: AppLimit | null;
  /** After a 204 retire, devices stay retirePending this long, then disappear (default 2000). */
  retireDelayMs?: number;
  /** Devices per page of managedDevices when the request has no `$top` (default 100). */
  devicesPageSize?: number;
  /**
   * More tenants behind the same app, by Entra tenant id (lower-case GUID), each with its own token
   * authority, limits, consent and counters (tenants/). Default: only `tenantId`.
   */
  tenants?: Record<string, SimTenantControl>;
  /** A token request for an unknown GUID authority creates that tenant (default false). */
  autoCreateTenants?: boolean;
  /** Calls per app across all tenants (Graph: 130,000 per 10 s); default null = unlimited. */
  appLimitAcrossTenants?: WindowLimit | null;
}

export interface TokenControl {
  /** Status answered by the token endpoint (e.g. 503), optionally with Retry-After; null ends the outage. */
  outage?: number | { status: number; retryAfter?: string } | null;
  /** Rotates the secret: the old one then fails with invalid_client. */
  clientSecret?: string;
  /** Every access token issued so far is rejected by Graph with 401. */
  revokeAll?: true;
  /** Every refresh token issued so far fails with invalid_grant (AADSTS50173). */
  revokeRefreshTokens?: true;
  /** The current secret is expired (invalid_client, AADSTS7000222) while true. */
  secretExpired?: boolean;
  /** Admin consent missing while true: app tokens carry no role (Graph 403), user grants fail (AADSTS65001). */
  consentMissing?: boolean;
  /** Lifetime of access tokens issued from now on. */
  lifetimeSec?: number;
}

export interface DeviceCodeControl {
  /** A user code, or `*` for all pending codes. */
  approve?: string;
  /** A user code, or `*`: the user declined. */
  deny?: string;
  autoApproveMs?: number | null;
}

export interface SimControl {
  latencyMs?: number;
  limit?: AppLimit | null;
  tenantLimit?: WindowLimit | null;
  /** Every Graph call answers this status (any 4xx/5xx); null ends it. */
  outage?: { status: number; retryAfter?: string } | null;
  /** Every Graph call is held open until the client gives up. */
  hangAll?: boolean;
  /** Answers for specific users, consumed in order, then 204. Replaces that user's previous script. */
  script?: Record<string, ScriptStep[]>;
  token?: TokenControl;
  deviceCode?: DeviceCodeControl;
  violationGraceMs?: number;
  /** Take Graph permissions away (their endpoints answer 403) or give them back. */
  permissions?: { deny?: string[]; grant?: string[] };
  /** Directory users behind GET /v1.0/users: add or change (by id, else UPN), remove, or clear all. */
  users?: {
    clear?: true;
    upsert?: {
      id?: string;
      userPrincipalName: string;
      displayName?: string;
      accountEnabled?: boolean;
      /** ISO 8601; null clears the leave date (a withdrawn resignation). */
      employeeLeaveDateTime?: string | null;
    }[];
    /** Object ids or UPNs. */
    remove?: string[];
  };
  /** The 1-based page of GET /v1.0/users that answers 503 while set; null ends it. */
  usersFailPage?: number | null;
  /** Per user: a device count, an explicit device list, or null for the hash-derived 0–3 devices. */
  devices?: Record<string, number | SimDeviceInput[] | null>;
  /** Per user or device id: after a retire the device disappears (normal), stays retirePending, or fails. */
  deviceBehaviour?: Record<string, DeviceBehaviour | null>;
  /** How long retired devices stay retirePending before they disappear. */
  retireDelayMs?: number;
  /** Devices per page when a read has no `$top`. */
  devicesPageSize?: number;
  /** Fields the device read refuses in `$select` (400, as an unknown property); null = accept all. */
  refuseSelect?: string[] | null;
  /** Sliding window of device reads per app (429 past it); null = unlimited. */
  readLimit?: AppLimit | null;
  /** Answers for device reads of specific users, consumed in order (e.g. 503, 429, 403, 404). */
  readScript?: Record<string, (number | { status: number; retryAfter?: string; delayMs?: number })[]>;
  /** Lifecycle Workflows resume calls: statuses answered to the next ones (then 204); `clear` forgets the record. */
  lifecycle?: { script?: number[]; clear?: true };
  /** Add or change tenants behind the app, by Entra tenant id (tenants/control.ts). */
  tenants?: Record<string, SimTenantControl>;
  appLimitAcrossTenants?: WindowLimit | null;
  autoCreateTenants?: boolean;
}

export interface GraphLogEntry {
  user: string;
  /** Arrival time, ms since the epoch. */
  at: number;
  /** 0 when the call was never answered (hang). */
  status: number;
  clientRequestId?: string;
}

export interface SimStats {
  graph: {
    calls: number;
    /** Status code → count; `hang` for calls never answered. */
    byStatus: Record<string, number>;
    byUser: Record<string, number>;
    successByUser: Record<string, number>;
    throttled: number;
    /** Calls that arrived inside an announced Retry-After window after the grace period. */
    insideRetryAfterWindow: number;
    /** Calls that arrived within the grace period of an announcement (already on the wire). */
    inFlightAtAnnouncement: number;
    maxConcurrent: number;
    firstCallAt: number | null;
    lastCallAt: number | null;
    log: GraphLogEntry[];
  };
  token: {
    requests: number;
    byGrant: Record<string, number>;
    failures: number;
    issued: number;
  };
  /** Every Graph request (not the /_sim API) per HTTP method: GET, POST, PATCH, DELETE… */
  requests: { byMethod: Record<string, number> };
  /** Device reads (managedDevices), counted apart from `graph` (the retire action). Always set by the simulator. */
  reads?: ReadStats;
  /**
   * Per tenant (by id), set when the simulator has more than its default tenant. `firstCallByUser` is
   * filled only when the call log is asked for.
   */
  tenants?: Record<string, TenantStats>;
}

export interface Simulator {
  /** `http://127.0.0.1:P/v1.0` */
  graphBaseUrl: string;
  /** `https://127.0.0.1:Q`; the MSAL authority is `${authorityHost}/${tenantId}`. */
  authorityHost: string;
  /** `127.0.0.1:Q`, for MSAL's `knownAuthorities`. */
  authorityHostAndPort: string;
  tenantId: string;
  /** Every tenant's id, the default one first. */
  tenantIds(): string[];
  clientId: string;
  /** The current secret (changes after a rotation through control). */
  clientSecret: string;
  federatedToken: string;
  /** PEM of the self-signed TLS certificate (for NODE_EXTRA_CA_CERTS). */
  caFile: string;
  /** `http://127.0.0.1:P/_sim` */
  controlUrl: string;
  /**
   * The environment of a product process (worker, API, CLI) pointed at this simulator, in the
   * product's variable names: GRAPH_BASE_URL, AZURE_AUTHORITY_HOST, AZURE_TENANT_ID,
   * AZURE_CLIENT_ID, AZURE_CLIENT_SECRET (the current one) and NODE_EXTRA_CA_CERTS (Node reads it
   * only at start-up, so a child process must be given it). The one place this list is written.
   */
  env(): Record<string, string>;
  /** A copy of the counters; `{ log: false }` skips the call log (cheaper for frequent polling). */
  stats(opts?: { log?: boolean }): SimStats;
  /** Lifecycle Workflows resume calls received so far (also GET /_sim/lifecycle). */
  lifecycle(): LifecycleCall[];
  control(patch: SimControl): void;
  /** A user's devices as a read would list them now (no auth, not counted), and when a retire hit them. */
  devices(user: string): DeviceView;
  /** Clears stats, limiter windows, announced windows, scripts and per-user counters. */
  reset(): void;
  close(): Promise<void>;
}
