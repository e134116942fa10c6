// The token and device-code endpoints: client_credentials, device_code and refresh_token grants.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../http.js';
import { base64url, unsignedJwt } from '../jwt.js';
import type { SimState } from '../state.js';
import type { SimTenant } from '../tenants/tenant.js';
import { grantedPermissions, stableGuid } from '../tokens.js';
import { checkClientCredential } from './credentials.js';
import { type EntraErrorSpec, entraErrors, sendEntraError } from './errors.js';

const GRANT_CLIENT_CREDENTIALS = 'client_credentials';
// MSAL sends the short form; RFC 8628 clients send the URN. Entra accepts both.
const GRANT_DEVICE_CODE = new Set(['device_code', 'urn:ietf:params:oauth:grant-type:device_code']);
const GRANT_REFRESH = 'refresh_token';
const DEVICE_CODE_LIFETIME_SEC = 900;
const NO_STORE = { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' };

/** A successful body, or the Entra error to answer. */
type Outcome = { body: Record<string, unknown> } | { error: EntraErrorSpec };

export function tokenEndpointUrl(state: SimState, tenantId = state.tenantId): string {
  return `${state.authorityHost}/${tenantId}/oauth2/v2.0/token`;
}

export function handleToken(
  state: SimState,
  tenant: SimTenant,
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
): void {
  const params = new URLSearchParams(body);
  const grant = params.get('grant_type') ?? '';
  state.stats.tokenRequest(grant);
  tenant.stats.tokenRequest();
  const outcome = tokenOutcome(state, tenant, params, grant, header(req, 'authorization'));
  if ('error' in outcome) {
    // A pending device code is the normal polling answer, not a failure.
    if (outcome.error.error !== 'authorization_pending') {
      state.stats.tokenFailure();
      tenant.stats.tokenFailure();
    }
    sendEntraError(res, outcome.error, header(req, 'client-request-id'));
    return;
  }
  state.stats.tokenIssued();
  tenant.stats.tokenIssued();
  sendJson(res, 200, outcome.body, NO_STORE);
}

function tokenOutcome(
  state: SimState,
  tenant: SimTenant,
  params: URLSearchParams,
  grant: string,
  authorization?: string,
): Outcome {
  if (state.tokenOutage)
    return { error: entraErrors.outage(state.tokenOutage.status, state.tokenOutage.retryAfter) };
  const clientId = params.get('client_id')?.toLowerCase();
  if (!clientId) return { error: entraErrors.missingParameter('client_id') };
  if (clientId !== state.clientId) return { error: entraErrors.unknownClient(clientId, tenant.id) };
  const scope = params.get('scope') ?? '';
  const scopes = scope.split(' ').filter(Boolean);
  const isClientCredentials = grant === GRANT_CLIENT_CREDENTIALS;
  const credential = checkClientCredential(
    state,
    params,
    authorization,
    tokenEndpointUrl(state, tenant.id),
    isClientCredentials,
  );
  if (!credential.ok) return { error: credential.error };
  // The tenant's admin removed the app or its consent (tenants/tenant.ts): Entra refuses every grant.
  if (tenant.consent === 'servicePrincipalRemoved')
    return { error: entraErrors.missingServicePrincipal(clientId, tenant.id) };
  if (tenant.consent === 'consentRequired') return { error: entraErrors.consentRequired(clientId) };
  const consentMissing = state.consentMissing || tenant.consent === 'revoked';

  if (isClientCredentials) {
    if (scopes.length !== 1 || !scopes[0]?.endsWith('/.default'))
      return { error: entraErrors.invalidScope(scope) };
    // Without admin consent Entra still issues a token, just without the application role: Graph then says 403.
    const issued = state.tokens.issue({
      kind: 'app',
      tenantId: tenant.id,
      clientId,
      scopes: consentMissing ? [] : scopes,
      granted: grantedPermissions(state.deniedPermissions),
      tenantGeneration: tenant.generation,
    });
    return {
      body: {
        token_type: 'Bearer',
        expires_in: issued.expiresIn,
        ext_expires_in: issued.expiresIn,
        access_token: issued.accessToken,
      },
    };
  }
  if (GRANT_DEVICE_CODE.has(grant))
    return deviceCodeOutcome(state, tenant, params, clientId, scopes, consentMissing);
  if (grant === GRANT_REFRESH) {
    const token = params.get('refresh_token');
    if (!token) return { error: entraErrors.missingParameter('refresh_token') };
    const found = state.refreshTokens.lookup(token);
    if (found === 'revoked') return { error: entraErrors.revokedRefreshToken() };
    if (!found || found.clientId !== clientId) return { error: entraErrors.badRefreshToken() };
    if (consentMissing) return { error: entraErrors.consentRequired(clientId) };
    return { body: userTokens(state, tenant, found.upn, scopes.length ? scopes : found.scopes) };
  }
  return { error: grant ? entraErrors.unsupportedGrant(grant) : entraErrors.missingParameter('grant_type') };
}

function deviceCodeOutcome(
  state: SimState,
  tenant: SimTenant,
  params: URLSearchParams,
  clientId: string,
  scopes: string[],
  consentMissing: boolean,
): Outcome {
  const deviceCode = params.get('device_code');
  if (!deviceCode) return { error: entraErrors.missingParameter('device_code') };
  const entry = state.deviceCodes.get(deviceCode);
  if (!entry || entry.clientId !== clientId || entry.state === 'redeemed')
    return { error: entraErrors.badDeviceCode() };
  const now = Date.now();
  if (now >= entry.expiresAt) return { error: entraErrors.expiredDeviceCode() };
  if (entry.state === 'denied') return { error: entraErrors.authorizationDeclined() };
  const auto = state.deviceCodeAutoApproveMs;
  if (entry.state === 'pending' && auto !== null && now - entry.createdAt >= auto) entry.state = 'approved';
  if (entry.state === 'pending') return { error: entraErrors.authorizationPending() };
  if (consentMissing) return { error: entraErrors.consentRequired(clientId) };
  entry.state = 'redeemed';
  return { body: userTokens(state, tenant, state.deviceCodeUser, scopes.length ? scopes : entry.scopes) };
}

function userTokens(
  state: SimState,
  tenant: SimTenant,
  upn: string,
  scopes: string[],
): Record<string, unknown> {
  const tenantId = tenant.id;
  const issued = state.tokens.issue({
    kind: 'user',
    tenantId,
    tenantGeneration: tenant.generation,
    clientId: state.clientId,
    upn,
    scopes,
    granted: grantedPermissions(state.deniedPermissions),
  });
  const oid = stableGuid(`user:${upn}`);
  const iat = Math.floor(Date.now() / 1000);
  const idToken = unsignedJwt({
    aud: state.clientId,
    iss: `${state.authorityHost}/${tenantId}/v2.0`,
    iat,
    nbf: iat,
    exp: iat + 3600,
    name: upn.split('@')[0],
    oid,
    preferred_username: upn,
    sub: stableGuid(`sub:${state.clientId}:${upn}`),
    tid: tenantId,
    ver: '2.0',
  });
  return {
    token_type: 'Bearer',
    scope: scopes.join(' '),
    expires_in: issued.expiresIn,
    ext_expires_in: issued.expiresIn,
    access_token: issued.accessToken,
    refresh_token: state.refreshTokens.issue({ clientId: state.clientId, upn, scopes }),
    id_token: idToken,
    client_info: base64url(JSON.stringify({ uid: oid, utid: tenantId })),
  };
}

export function handleDeviceCode(
  state: SimState,
  tenant: SimTenant,
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
): void {
  const params = new URLSearchParams(body);
  state.stats.tokenRequest('device_authorization');
  const outcome = deviceAuthorization(state, tenant, params);
  if ('error' in outcome) {
    state.stats.tokenFailure();
    sendEntraError(res, outcome.error, header(req, 'client-request-id'));
    return;
  }
  sendJson(res, 200, outcome.body, NO_STORE);
}

function deviceAuthorization(state: SimState, tenant: SimTenant, params: URLSearchParams): Outcome {
  if (state.tokenOutage)
    return { error: entraErrors.outage(state.tokenOutage.status, state.tokenOutage.retryAfter) };
  const clientId = params.get('client_id')?.toLowerCase();
  if (!clientId) return { error: entraErrors.missingParameter('client_id') };
  if (clientId !== state.clientId) return { error: entraErrors.unknownClient(clientId, tenant.id) };
  const scopes = (params.get('scope') ?? '').split(' ').filter(Boolean);
  if (scopes.length === 0) return { error: entraErrors.missingParameter('scope') };
  const entry = state.deviceCodes.create(state.clientId, scopes, DEVICE_CODE_LIFETIME_SEC);
  const verificationUri = `${state.authorityHost}/devicelogin`;
  return {
    body: {
      user_code: entry.userCode,
      device_code: entry.deviceCode,
      verification_uri: verificationUri,
      expires_in: DEVICE_CODE_LIFETIME_SEC,
      interval: state.deviceCodeIntervalSec,
      message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${entry.userCode} to authenticate.`,
    },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
