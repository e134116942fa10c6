// Access tokens the Entra fake issues and the Graph fake accepts. HS256 JWTs under a key only this
// simulator knows, so Graph can check them without a lookup; a generation number implements revokeAll.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { signHs256, verifyHs256 } from './jwt.js';

export const GRAPH_AUDIENCE = 'https://graph.microsoft.com';
export const RETIRE_ROLE = 'DeviceManagementManagedDevices.PrivilegedOperations.All';

/**
 * The Graph application permissions the simulator knows. Every one is granted unless a test denies it
 * (control `permissions.deny`): the Graph fake answers 403 on an endpoint whose permission is denied.
 */
export const PERMISSIONS = {
  retire: RETIRE_ROLE,
  readDevices: 'DeviceManagementManagedDevices.Read.All',
  readUsers: 'User.Read.All',
  readLifecycleInfo: 'User-LifeCycleInfo.Read.All',
  lifecycleWorkflows: 'LifecycleWorkflows.ReadWrite.All',
} as const;
export type Permission = (typeof PERMISSIONS)[keyof typeof PERMISSIONS];
export const PERMISSION_NAMES = Object.values(PERMISSIONS) as [Permission, ...Permission[]];

export interface Principal {
  kind: 'app' | 'user';
  tenantId: string;
  clientId: string;
  /** For users. */
  upn?: string;
  /** What the client asked for (`…/.default` in app mode; delegated scopes for users). */
  scopes?: string[];
  /**
   * The Graph permissions granted (admin consent) and not denied through control `permissions`: an app
   * token's `roles`, a user token's `scp`. Default none.
   */
  granted?: readonly string[];
  /** The tenant's token generation (claim `tgen`): Graph refuses tokens of an older one (tenants/). */
  tenantGeneration?: number;
}

/** OpenID Connect scopes a client asks for beside Graph's: Entra never puts them in `scp`. */
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

/** The permissions the tenant grants now: every known one the control has not denied. */
export function grantedPermissions(denied: ReadonlySet<string>): Permission[] {
  return PERMISSION_NAMES.filter((p) => !denied.has(p));
}

/** `message` is Graph's text for the 401. */
export type TokenCheck = { ok: true; claims: Record<string, unknown> } | { ok: false; message: string };

export class TokenIssuer {
  private readonly key = randomBytes(32);
  private generation = 0;

  constructor(private lifetimeSec: number) {}

  setLifetime(seconds: number): void {
    this.lifetimeSec = seconds;
  }

  get lifetime(): number {
    return this.lifetimeSec;
  }

  /** Every token issued so far becomes invalid. */
  revokeAll(): void {
    this.generation++;
  }

  issue(principal: Principal, now = Date.now()): { accessToken: string; expiresIn: number } {
    const iat = Math.floor(now / 1000);
    const payload: Record<string, unknown> = {
      aud: GRAPH_AUDIENCE,
      iss: `https://sts.windows.net/${principal.tenantId}/`,
      iat,
      nbf: iat,
      exp: iat + this.lifetimeSec,
      tid: principal.tenantId,
      appid: principal.clientId,
      idtyp: principal.kind,
      uti: randomUUID(),
      gen: this.generation,
      tgen: principal.tenantGeneration ?? 0,
    };
    if (principal.kind === 'app') {
      payload.oid = stableGuid(`sp:${principal.clientId}`);
      // Entra issues an app token even without admin consent, just without roles. With consent the
      // token lists every application permission granted (what `.default` means), so a reader of the
      // token (offboard preflight) can name the one missing.
      const roles = (principal.scopes ?? []).length > 0 ? [...(principal.granted ?? [])] : [];
      if (roles.length > 0) payload.roles = roles;
    } else {
      payload.oid = stableGuid(`user:${principal.upn ?? ''}`);
      payload.upn = principal.upn;
      payload.scp = delegatedScp(principal.scopes ?? [], principal.granted ?? []);
    }
    return { accessToken: signHs256(payload, this.key), expiresIn: this.lifetimeSec };
  }

  /** The token's claims when Graph should accept it for `tenantId`, else why not. */
  check(token: string, tenantId: string, now = Date.now()): TokenCheck {
    const verified = this.verify(token, now);
    if (verified.ok && verified.claims.tid !== tenantId)
      return { ok: false, message: 'Access token tenant does not match this tenant.' };
    return verified;
  }

  /** The token's claims when it is this simulator's, for Graph, unexpired and not revoked; any tenant. */
  verify(token: string, now = Date.now()): TokenCheck {
    const claims = verifyHs256(token, this.key);
    if (!claims)
      return { ok: false, message: 'IDX14100: JWT is not well formed or its signature is invalid.' };
    if (claims.aud !== GRAPH_AUDIENCE) return { ok: false, message: 'Invalid audience.' };
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= now) {
      return { ok: false, message: 'Lifetime validation failed, the token is expired.' };
    }
    if (claims.gen !== this.generation) return { ok: false, message: 'Access token has been revoked.' };
    return { ok: true, claims };
  }
}

/**
 * A user token's `scp`: Entra lists the delegated permissions consented for the resource, not only those
 * asked for this time. Asked-for Graph scopes the simulator does not know are kept; denied ones are not.
 */
function delegatedScp(requested: readonly string[], granted: readonly string[]): string {
  const known = new Set<string>(PERMISSION_NAMES);
  const out = new Set<string>();
  for (const raw of requested) {
    const name = raw.replace(`${GRAPH_AUDIENCE}/`, '');
    if (OIDC_SCOPES.has(name.toLowerCase()) || name.endsWith('.default')) continue;
    if (!known.has(name) || granted.includes(name)) out.add(name);
  }
  for (const name of granted) out.add(name);
  return [...out].join(' ');
}

/** A GUID derived from a name, so the same user always has the same object id. */
export function stableGuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
