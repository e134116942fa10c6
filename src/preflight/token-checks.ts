// The first two checks: a token is issued for the configured tenant and cloud, and it carries the
// permissions the configuration needs. The token comes from the product's own provider (src/entra), so
// what passes here is what a worker will get.

import type { Config } from '../config/load.js';
import { graphOrigin } from '../entra/authority.js';
import { type AccessTokenClaims, readAccessTokenClaims, UnreadableTokenError } from '../entra/claims.js';
import { TokenAcquisitionError } from '../entra/errors.js';
import type { TokenProvider } from '../interfaces.js';
import { missingPermissions } from './permissions.js';
import type { PreflightCheck } from './types.js';

/** Microsoft Graph's application id: some tokens name the resource by it instead of its URL. */
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface TokenOutcome {
  check: PreflightCheck;
  /** Set when a token was issued (the reads use it). Never printed. */
  token?: string;
  claims?: AccessTokenClaims;
}

/** What to do about a token failure, by the provider's error code (never by message text). */
function tokenFix(code: string, mode: Config['auth']['mode']): string {
  switch (code) {
    case 'not_configured':
      return mode === 'delegated'
        ? 'set AZURE_TENANT_ID, AZURE_CLIENT_ID and TOKEN_CACHE_KEY'
        : 'set AZURE_TENANT_ID, AZURE_CLIENT_ID and one credential (AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE)';
    case 'invalid_client':
    case 'certificate_unreadable':
    case 'federated_token_unreadable':
      return 'the credential was refused or unreadable: renew the client secret or certificate on the app registration and update the variable (runbook "secret expired")';
    case 'login_required':
    case 'invalid_grant':
    case 'interaction_required':
    case 'token_cache_unreadable':
      return 'sign in again with `offboard login` (AUTH_MODE=delegated)';
    case 'consent_required':
    case 'unauthorized_client':
      return "grant admin consent for the app's Microsoft Graph permissions (App registrations → API permissions)";
    case 'invalid_resource':
    case 'invalid_scope':
      return 'GRAPH_BASE_URL and AZURE_AUTHORITY_HOST must name the same cloud (e.g. graph.microsoft.us with login.microsoftonline.us)';
    default:
      return 'check AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_AUTHORITY_HOST and the network path to the authority, then run again';
  }
}

export async function checkToken(config: Config, provider: TokenProvider | Error): Promise<TokenOutcome> {
  const { mode } = config.auth;
  const where = `${mode} mode, tenant ${config.auth.tenantId ?? '(unset)'}, authority ${new URL(config.auth.authorityHost).host}`;
  const fail = (detail: string, fix: string): TokenOutcome => ({
    check: { id: 'token', status: 'fail', detail, fix },
  });
  if (provider instanceof Error) {
    const code = provider instanceof TokenAcquisitionError ? provider.code : 'not_configured';
    return fail(`no token (${where}): ${provider.message}`, tokenFix(code, mode));
  }
  let token: string;
  try {
    // A fresh token, not a cached one: it must show the permissions granted now.
    token = await provider.getToken({ forceRefresh: true });
  } catch (err) {
    if (!(err instanceof TokenAcquisitionError)) throw err;
    return fail(`no token (${where}): ${err.code}: ${err.message}`, tokenFix(err.code, mode));
  }
  let claims: AccessTokenClaims;
  try {
    claims = readAccessTokenClaims(token);
  } catch (err) {
    if (!(err instanceof UnreadableTokenError)) throw err;
    return {
      token,
      check: {
        id: 'token',
        status: 'fail',
        detail: `a token was issued (${where}) but ${err.message}`,
        fix: 'the authority is not Entra ID or did not issue a Graph access token: check AZURE_AUTHORITY_HOST',
      },
    };
  }
  const resource = graphOrigin(config.graph.baseUrl);
  const audOk = claims.aud === resource || claims.aud === `${resource}/` || claims.aud === GRAPH_APP_ID;
  if (!audOk) {
    return {
      token,
      claims,
      check: {
        id: 'token',
        status: 'fail',
        detail: `the token is for ${claims.aud ?? 'no audience'}, not ${resource} (GRAPH_BASE_URL's cloud)`,
        fix: tokenFix('invalid_resource', mode),
      },
    };
  }
  const tenant = config.auth.tenantId ?? '';
  if (GUID.test(tenant) && claims.tid?.toLowerCase() !== tenant.toLowerCase()) {
    return {
      token,
      claims,
      check: {
        id: 'token',
        status: 'fail',
        detail: `the token is for tenant ${claims.tid ?? '(none)'}, not AZURE_TENANT_ID ${tenant}`,
        fix: 'set AZURE_TENANT_ID to the tenant the app registration lives in',
      },
    };
  }
  return {
    token,
    claims,
    check: { id: 'token', status: 'pass', detail: `token issued (${where}) for ${resource}` },
  };
}

/** The token's `roles` (app) or `scp` (delegated) against what the configuration needs. */
export function checkPermissions(
  config: Config,
  required: readonly string[],
  claims: AccessTokenClaims | undefined,
): PreflightCheck {
  const delegated = config.auth.mode === 'delegated';
  const claim = delegated ? 'scp' : 'roles';
  if (!claims) {
    return {
      id: 'permissions',
      status: 'fail',
      detail: `not checked: no readable token (needs ${required.join(', ')})`,
      fix: 'fix the token check first',
    };
  }
  const granted = (delegated ? claims.scp : claims.roles) ?? [];
  const missing = missingPermissions(required, granted);
  if (missing.length === 0) {
    return {
      id: 'permissions',
      status: 'pass',
      detail: `the token's ${claim} include ${required.join(', ')}`,
    };
  }
  return {
    id: 'permissions',
    status: 'fail',
    detail: `the token's ${claim} lack ${missing.join(', ')} (has: ${granted.join(', ') || 'none'})`,
    fix: delegated
      ? `add the delegated Microsoft Graph permission(s) ${missing.join(', ')} to the app registration, consent, then run \`offboard login\` again`
      : `add the Microsoft Graph application permission(s) ${missing.join(', ')} to the app registration and grant admin consent`,
  };
}
