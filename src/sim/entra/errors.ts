// Entra (AADSTS) error answers, shaped like login.microsoftonline.com's so MSAL parses them the same way.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { sendJson } from '../http.js';

export interface EntraErrorSpec {
  status: number;
  error: string;
  aadsts: number;
  description: string;
  /** Entra's `suberror` (e.g. `bad_token`, `consent_required`): MSAL maps these to InteractionRequiredAuthError. */
  suberror?: string;
  headers?: Record<string, string>;
}

export function sendEntraError(res: ServerResponse, spec: EntraErrorSpec, correlationId?: string): void {
  const traceId = randomUUID();
  const correlation = correlationId ?? randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  sendJson(
    res,
    spec.status,
    {
      error: spec.error,
      error_description: `AADSTS${spec.aadsts}: ${spec.description} Trace ID: ${traceId} Correlation ID: ${correlation} Timestamp: ${timestamp}`,
      error_codes: [spec.aadsts],
      timestamp,
      trace_id: traceId,
      correlation_id: correlation,
      error_uri: `https://login.microsoftonline.com/error?code=${spec.aadsts}`,
      ...(spec.suberror ? { suberror: spec.suberror } : {}),
    },
    {
      'cache-control': 'no-store, no-cache',
      pragma: 'no-cache',
      'x-ms-request-id': traceId,
      ...spec.headers,
    },
  );
}

export const entraErrors = {
  tenantNotFound: (tenant: string): EntraErrorSpec => ({
    status: 400,
    error: 'invalid_tenant',
    aadsts: 90002,
    description: `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
  }),
  unknownClient: (clientId: string, tenant: string): EntraErrorSpec => ({
    status: 400,
    error: 'unauthorized_client',
    aadsts: 700016,
    description: `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`,
  }),
  missingCredential: (): EntraErrorSpec => ({
    status: 401,
    error: 'invalid_client',
    aadsts: 7000218,
    description:
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  }),
  invalidSecret: (clientId: string): EntraErrorSpec => ({
    status: 401,
    error: 'invalid_client',
    aadsts: 7000215,
    description: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
  }),
  expiredSecret: (clientId: string): EntraErrorSpec => ({
    status: 401,
    error: 'invalid_client',
    aadsts: 7000222,
    description: `The provided client secret keys for app '${clientId}' are expired.`,
  }),
  invalidAssertion: (reason: string): EntraErrorSpec => ({
    status: 401,
    error: 'invalid_client',
    aadsts: 700027,
    description: `Client assertion failed signature validation. [Reason - ${reason}]`,
  }),
  federatedMismatch: (): EntraErrorSpec => ({
    status: 401,
    error: 'invalid_client',
    aadsts: 700213,
    description: 'No matching federated identity record found for presented assertion subject.',
  }),
  invalidScope: (scope: string): EntraErrorSpec => ({
    status: 400,
    error: 'invalid_scope',
    aadsts: 1002012,
    description: `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
  }),
  unsupportedGrant: (grant: string): EntraErrorSpec => ({
    status: 400,
    error: 'unsupported_grant_type',
    aadsts: 70003,
    description: `The app requested an unsupported grant type '${grant}'.`,
  }),
  missingParameter: (name: string): EntraErrorSpec => ({
    status: 400,
    error: 'invalid_request',
    aadsts: 900144,
    description: `The request body must contain the following parameter: '${name}'.`,
  }),
  authorizationPending: (): EntraErrorSpec => ({
    status: 400,
    error: 'authorization_pending',
    aadsts: 70016,
    description: 'OAuth 2.0 device flow error. Authorization is pending. Continue polling.',
  }),
  authorizationDeclined: (): EntraErrorSpec => ({
    status: 400,
    error: 'authorization_declined',
    aadsts: 70000,
    description: 'The user declined the sign-in request.',
  }),
  expiredDeviceCode: (): EntraErrorSpec => ({
    status: 400,
    error: 'expired_token',
    aadsts: 70019,
    description: 'Verification code expired.',
  }),
  badDeviceCode: (): EntraErrorSpec => ({
    status: 400,
    error: 'invalid_grant',
    aadsts: 70000,
    description: 'The provided value for the input parameter device_code is not valid.',
  }),
  badRefreshToken: (): EntraErrorSpec => ({
    status: 400,
    error: 'invalid_grant',
    aadsts: 9002313,
    description: 'Invalid request. Request is malformed or invalid.',
  }),
  revokedRefreshToken: (): EntraErrorSpec => ({
    status: 400,
    error: 'invalid_grant',
    aadsts: 50173,
    description: 'The provided grant has expired due to it being revoked, a fresh auth token is needed.',
    suberror: 'bad_token',
  }),
  consentRequired: (clientId: string): EntraErrorSpec => ({
    status: 400,
    error: 'invalid_grant',
    aadsts: 65001,
    description: `The user or administrator has not consented to use the application with ID '${clientId}'.`,
    suberror: 'consent_required',
  }),
  /**
   * The app's service principal (enterprise application) is gone from the tenant: a customer removed
   * the app. Entra's answer to a client-credentials request then (401 invalid_client, AADSTS7000229).
   */
  missingServicePrincipal: (clientId: string, tenant: string): EntraErrorSpec => ({
    status: 401,
    error: 'invalid_client',
    aadsts: 7000229,
    description: `The client application ${clientId} is missing service principal in the tenant ${tenant}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119`,
  }),
  outage: (status: number, retryAfter?: string): EntraErrorSpec => ({
    status,
    error: 'temporarily_unavailable',
    aadsts: status === 429 ? 50196 : 90033,
    description:
      status === 429
        ? 'The server terminated an operation because it encountered a client request loop.'
        : 'A transient error has occurred. Please try again.',
    headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter },
  }),
};
