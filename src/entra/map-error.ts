// Turns whatever MSAL throws into a TokenAcquisitionError the worker can branch on: a code, and whether
// waiting could help. Decided from error classes, MSAL/OAuth error codes and the HTTP status our
// network module saw — never from message text.
import {
  AuthError,
  ClientAuthError,
  ClientConfigurationError,
  InteractionRequiredAuthError,
  ServerError,
} from '@azure/msal-node';
import type { Logger } from '../log.js';
import { LoginRequiredError, TokenAcquisitionError } from './errors.js';
import type { AuthorityFailure, TrackedHttpClient } from './http-client.js';

/** Server codes passed through as they are (all permanent until an operator acts). */
const PERMANENT_SERVER_CODES = new Set([
  'invalid_client',
  'unauthorized_client',
  'invalid_grant',
  'invalid_request',
  'invalid_scope',
  'invalid_resource',
  'access_denied',
  'consent_required',
  'interaction_required',
  'unsupported_grant_type',
]);

/** MSAL client-side codes meaning "an operator must sign in again" (delegated mode). */
const SIGN_IN_AGAIN = new Set(['no_tokens_found', 'refresh_token_expired', 'bad_token', 'login_required']);

const DEVICE_CODE_CODES = new Set([
  'device_code_expired',
  'user_timeout_reached',
  'device_code_polling_cancelled',
  'device_code_unknown_error',
]);

export interface AcquisitionContext {
  /** Did this acquisition reach the network at all? */
  sent: boolean;
  lastFailure?: AuthorityFailure;
  /** Values that must never appear in a message (client secret, assertion). */
  secrets: readonly string[];
}

export interface TokenCallContext {
  http: TrackedHttpClient;
  /** Current secret material (client secret, assertion), scrubbed from messages. */
  secrets?: () => readonly string[];
  logger?: Logger;
}

/** Runs one MSAL call and maps its failure; the network module tells what happened on the wire. */
export async function withTokenErrors<T>(ctx: TokenCallContext, fn: () => Promise<T>): Promise<T> {
  const { http } = ctx;
  const before = http.requests;
  const failuresBefore = http.lastFailure;
  try {
    return await fn();
  } catch (err) {
    const sent = http.requests > before;
    // A failure recorded during this call, or (for a replay) the one MSAL is replaying.
    const fresh = http.lastFailure !== failuresBefore ? http.lastFailure : undefined;
    const mapped = toTokenError(err, {
      sent,
      lastFailure: sent ? fresh : http.lastFailure,
      secrets: ctx.secrets?.() ?? [],
    });
    // Debug only: the caller decides what a failure means (retry, circuit) and logs that.
    ctx.logger?.debug(
      {
        code: mapped.code,
        transient: mapped.transient,
        retryAfterMs: mapped.retryAfterMs,
        sent,
        reason: mapped.message,
      },
      'token acquisition failed',
    );
    throw mapped;
  }
}

export function toTokenError(err: unknown, ctx: AcquisitionContext): TokenAcquisitionError {
  if (err instanceof TokenAcquisitionError) return err;
  const clean = (text: string) => scrub(text, ctx.secrets);
  const failure = ctx.lastFailure;

  if (!(err instanceof AuthError)) {
    const name = err instanceof Error ? err.name : typeof err;
    return new TokenAcquisitionError(
      `token acquisition failed unexpectedly (${name})`,
      'unknown_error',
      false,
    );
  }

  const detail = clean(err.errorMessage || err.errorCode);
  const code = err.errorCode;

  // MSAL answered from its throttling cache: the authority said 429/5xx a moment ago.
  if (err instanceof ServerError && !ctx.sent) {
    const retryAfterMs = failure ? Math.max(0, failure.replayUntil - Date.now()) : undefined;
    const why = failure?.status ? `HTTP ${failure.status}` : 'an earlier 429 or 5xx';
    return new TokenAcquisitionError(
      `token endpoint throttled: MSAL is holding back requests after ${why}`,
      failure?.status && failure.status >= 500 ? 'token_endpoint_unavailable' : 'throttled',
      true,
      { retryAfterMs: retryAfterMs || undefined },
    );
  }

  // What the wire said during this call outranks the error MSAL derived from it.
  if (ctx.sent && failure?.network) {
    return new TokenAcquisitionError(
      `authority unreachable: ${failure.detail ?? detail}`,
      'network_error',
      true,
    );
  }
  const status =
    (err instanceof ServerError ? err.status : undefined) ?? (ctx.sent ? failure?.status : undefined);
  if (status === 429) {
    const retryAfterMs = failure ? Math.max(0, failure.replayUntil - Date.now()) : undefined;
    return new TokenAcquisitionError('token endpoint throttled the request (HTTP 429)', 'throttled', true, {
      retryAfterMs: retryAfterMs || undefined,
    });
  }
  if (status !== undefined && status >= 500) {
    // Only the server's own description is worth repeating; MSAL's follow-on errors are noise here.
    const said = err instanceof ServerError ? `: ${detail}` : '';
    return new TokenAcquisitionError(
      `token endpoint unavailable (HTTP ${status})${said}`,
      'token_endpoint_unavailable',
      true,
    );
  }
  if (code === 'temporarily_unavailable' || code === 'server_error') {
    return new TokenAcquisitionError(
      `token endpoint unavailable: ${detail}`,
      'token_endpoint_unavailable',
      true,
    );
  }
  if (code === 'network_error') {
    return new TokenAcquisitionError(`authority unreachable: ${detail}`, 'network_error', true);
  }

  if (err instanceof InteractionRequiredAuthError) {
    if (code === 'consent_required' || err.subError === 'consent_required') {
      return new TokenAcquisitionError(
        `consent required for the Graph permission: ${detail}`,
        'consent_required',
        false,
      );
    }
    if (PERMANENT_SERVER_CODES.has(code)) {
      return new TokenAcquisitionError(
        `token request refused (${code}): ${detail} — in delegated mode run \`offboard login\` again`,
        code,
        false,
      );
    }
    if (SIGN_IN_AGAIN.has(code) || SIGN_IN_AGAIN.has(err.subError)) {
      return new LoginRequiredError(
        `the signed-in session can no longer be renewed (${code}): run \`offboard login\` again`,
      );
    }
    return new TokenAcquisitionError(
      `token request needs interaction: ${detail}`,
      'interaction_required',
      false,
    );
  }

  if (err instanceof ServerError) {
    const mapped = PERMANENT_SERVER_CODES.has(code) ? code : code || 'server_error';
    return new TokenAcquisitionError(
      `token request refused (${mapped}${status ? `, HTTP ${status}` : ''}): ${detail}`,
      mapped,
      false,
    );
  }

  if (DEVICE_CODE_CODES.has(code)) {
    return new TokenAcquisitionError(`device-code sign-in did not complete (${code})`, code, false);
  }
  if (code === 'post_request_failed') {
    // Device-code polling: MSAL puts the server's OAuth error code (e.g. authorization_declined) here.
    return new TokenAcquisitionError(`device-code sign-in failed: ${detail}`, 'device_code_failed', false);
  }
  if (code === 'token_parsing_error') {
    return new TokenAcquisitionError(
      `unexpected answer from the authority: ${detail}`,
      'invalid_response',
      false,
    );
  }
  if (err instanceof ClientConfigurationError) {
    return new TokenAcquisitionError(`MSAL configuration rejected (${code}): ${detail}`, code, false);
  }
  if (err instanceof ClientAuthError && code === 'endpoints_resolution_error') {
    return new TokenAcquisitionError(
      'cannot read the authority metadata (check AZURE_AUTHORITY_HOST and AZURE_TENANT_ID)',
      'authority_unresolved',
      false,
    );
  }
  return new TokenAcquisitionError(
    `token acquisition failed (${code || 'unknown'}): ${detail}`,
    code || 'unknown_error',
    false,
  );
}

const MAX_MESSAGE = 600;

/** Removes any known secret from text that came from outside, and bounds its length. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length >= 4) out = out.split(s).join('[redacted]');
  }
  // Bearer-token-shaped runs (JWTs) never belong in an error message.
  out = out.replace(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '[redacted]');
  return out.length > MAX_MESSAGE ? `${out.slice(0, MAX_MESSAGE)}…` : out;
}
