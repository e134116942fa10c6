// The mapping from MSAL's error classes to our codes, with MSAL's real error classes.
import { AuthError, ClientAuthError, InteractionRequiredAuthError, ServerError } from '@azure/msal-node';
import { describe, expect, it } from 'vitest';
import { LoginRequiredError, TokenAcquisitionError } from '../../src/entra/errors.js';
import { scrub, toTokenError } from '../../src/entra/map-error.js';

const sent = { sent: true, secrets: [] as string[] };

describe('MSAL error mapping', () => {
  it('credential and consent problems are permanent', () => {
    const cases: [unknown, string][] = [
      [
        new ServerError(
          'invalid_client',
          '',
          'AADSTS7000215: Invalid client secret provided.',
          '',
          '7000215',
          401,
        ),
        'invalid_client',
      ],
      [new ServerError('unauthorized_client', '', 'AADSTS700016', '', undefined, 400), 'unauthorized_client'],
      [
        new InteractionRequiredAuthError('invalid_grant', '', 'AADSTS70008: expired', 'bad_token'),
        'invalid_grant',
      ],
      [new InteractionRequiredAuthError('consent_required', '', 'AADSTS65001'), 'consent_required'],
      [new InteractionRequiredAuthError('interaction_required', '', 'AADSTS50076'), 'interaction_required'],
    ];
    for (const [err, code] of cases) {
      const mapped = toTokenError(err, sent);
      expect(mapped.code, code).toBe(code);
      expect(mapped.transient, code).toBe(false);
    }
  });

  it('no refresh token in the cache means: sign in again', () => {
    const mapped = toTokenError(new InteractionRequiredAuthError('no_tokens_found', ''), {
      sent: false,
      secrets: [],
    });
    expect(mapped).toBeInstanceOf(LoginRequiredError);
    expect(mapped.code).toBe('login_required');
  });

  it('5xx, 429, network errors and MSAL throttling replays are transient', () => {
    expect(toTokenError(new ServerError('server_error', '', 'x', '', undefined, 503), sent)).toMatchObject({
      code: 'token_endpoint_unavailable',
      transient: true,
    });
    expect(toTokenError(new ServerError('', '', 'x', '', undefined, 429), sent)).toMatchObject({
      code: 'throttled',
      transient: true,
    });
    expect(toTokenError(new AuthError('network_error', '', 'x'), sent)).toMatchObject({
      code: 'network_error',
      transient: true,
    });
    // Non-JSON 502 page: only the status our network module saw tells what happened.
    const replayUntil = Date.now() + 30_000;
    expect(
      toTokenError(new AuthError('token_parsing_error', '', 'x'), {
        sent: true,
        lastFailure: { status: 502, at: Date.now(), replayUntil },
        secrets: [],
      }),
    ).toMatchObject({ code: 'token_endpoint_unavailable', transient: true });
    // MSAL answered a ServerError without sending anything: its throttling cache replayed a 429.
    const replay = toTokenError(new ServerError('', ''), {
      sent: false,
      lastFailure: { status: 429, at: Date.now(), replayUntil },
      secrets: [],
    });
    expect(replay).toMatchObject({ code: 'throttled', transient: true });
    expect(replay.retryAfterMs).toBeGreaterThan(25_000);
  });

  it('our own errors pass through and unknown ones stay permanent', () => {
    const own = new TokenAcquisitionError('x', 'token_cache_unreadable', false);
    expect(toTokenError(own, sent)).toBe(own);
    expect(toTokenError(new ClientAuthError('device_code_expired', ''), sent).code).toBe(
      'device_code_expired',
    );
    expect(toTokenError(new TypeError('bug'), sent)).toMatchObject({
      code: 'unknown_error',
      transient: false,
    });
  });

  it('never repeats a secret or a JWT that a server echoed back', () => {
    const secret = 'Zx8Q~super-secret-value';
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    const mapped = toTokenError(
      new ServerError('invalid_client', '', `bad ${secret} and ${jwt}`, '', undefined, 401),
      {
        sent: true,
        secrets: [secret],
      },
    );
    expect(mapped.message).not.toContain(secret);
    expect(mapped.message).not.toContain(jwt);
    expect(scrub('a'.repeat(2000), []).length).toBeLessThan(700);
  });
});
