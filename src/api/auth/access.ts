// Who may call what. Every route declares its access in `config.access`; a route without one is
// refused (deny by default), so a forgotten declaration fails closed.
import type { FastifyRequest } from 'fastify';
import type { Role } from '../../config/api-keys.js';
import type { Principal } from './keys.js';

/**
 * A signed-in browser session (the operator console): the principal comes from the session cookie
 * only, never from a header, and the session is accepted on the routes that declare it only.
 */
export interface SessionAuth {
  /**
   * The session's principal, or null (no cookie, expired, forged, signed out, or its key no longer
   * configured).
   */
  principal(request: FastifyRequest): Promise<Principal | null>;
  /** Where a browser without a session is sent on GET/HEAD; other methods get 401. */
  signInPath: string;
}

export type Access =
  | { public: true }
  | {
      roles: readonly Role[];
      /** Browsers get an HTTP Basic challenge (dashboard, status page); API clients a Bearer one. */
      challenge?: 'basic' | 'bearer';
    }
  | { roles: readonly Role[]; session: SessionAuth };

export const PUBLIC: Access = { public: true };
export const PRODUCER: Access = { roles: ['producer'] };
export const READ_JOB: Access = { roles: ['producer', 'viewer', 'operator'] };
export const VIEWER: Access = { roles: ['viewer', 'operator'] };
export const OPERATOR: Access = { roles: ['operator'] };
export const VIEWER_BROWSER: Access = { roles: ['viewer', 'operator'], challenge: 'basic' };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /**
     * The route filters what it shows and acts on by the key's tenants (src/tenants/scope.ts).
     * Routes without it refuse tenant-scoped keys (403): deny by default.
     */
    tenantAware?: boolean;
    /** The route answers without Redis (e.g. /metrics reports redis_up 0); no fast 503. */
    redisOptional?: boolean;
  }
  interface FastifyRequest {
    /** The API key's owner; set by the auth hook on every non-public route. */
    principal?: Principal;
  }
}

/** The key's name for audit entries and `requestedBy`. */
export function actorOf(request: { principal?: Principal }): string {
  return request.principal?.name ?? 'anonymous';
}
