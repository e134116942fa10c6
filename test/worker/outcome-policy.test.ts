// The failure decision table, row by row (README, "How retries, throttling and dead letters work"),
// and the one dead-letter record builder. Pure functions: no Redis, no Graph.

import { describe, expect, it } from 'vitest';
import { SystemicFailureError } from '../../src/control/circuit.js';
import { TokenAcquisitionError } from '../../src/entra/errors.js';
import { InventoryRejectedError } from '../../src/evidence/inventory.js';
import {
  GraphBadRequestError,
  GraphForbiddenError,
  GraphNetworkError,
  GraphNotFoundError,
  GraphThrottledError,
  GraphTimeoutError,
  GraphTransientError,
  GraphUnauthorizedError,
} from '../../src/graph/errors.js';
import { PacerHoldError } from '../../src/pacing/pacer.js';
import { deadLetterInfo, decideFailure, ThrottleCapError } from '../../src/worker/outcome-policy.js';
import { isTransient } from '../../src/worker/retry-policy.js';

const d = (status: number | null, extra = {}) => ({
  status,
  clientRequestId: 'c',
  durationMs: 1,
  requestId: `req-${status}`,
  ...extra,
});
const mid = { shuttingDown: false, lastAttempt: false };
const last = { shuttingDown: false, lastAttempt: true };

describe('decideFailure', () => {
  const rows: [string, unknown, typeof mid, Record<string, unknown>][] = [
    [
      '401 after a refresh',
      new SystemicFailureError('unauthorized', 'x'),
      mid,
      { kind: 'trip', code: 'unauthorized' },
    ],
    [
      'token endpoint down',
      new TokenAcquisitionError('503', 'server_error', true),
      mid,
      { kind: 'trip', code: 'token_endpoint_unavailable' },
    ],
    [
      'expired secret',
      new TokenAcquisitionError('bad', 'invalid_client', false),
      last,
      { kind: 'trip', code: 'invalid_client' },
    ],
    ['circuit already open', new PacerHoldError('held'), mid, { kind: 'put-back', why: 'circuit open' }],
    [
      'shutdown, not a Graph answer',
      new Error('aborted'),
      { shuttingDown: true, lastAttempt: true },
      { kind: 'put-back', why: 'shutdown' },
    ],
    [
      'shutdown, but Graph answered 404',
      new GraphNotFoundError(d(404)),
      { shuttingDown: true, lastAttempt: false },
      { kind: 'dead-letter', reason: 'not_found' },
    ],
    [
      'throttled waits exhausted',
      new ThrottleCapError(new GraphThrottledError(d(429), 1000)),
      mid,
      { kind: 'dead-letter', reason: 'throttled_exhausted' },
    ],
    ['404', new GraphNotFoundError(d(404)), mid, { kind: 'dead-letter', reason: 'not_found' }],
    // A 400 is judged per request shape (circuit request_rejected, or this user's dead letter).
    ['400 on the retire', new GraphBadRequestError(d(400)), mid, { kind: 'rejected', shape: 'retire' }],
    [
      '400 on the inventory read',
      new InventoryRejectedError(new GraphBadRequestError(d(400))),
      mid,
      { kind: 'rejected', shape: 'inventory' },
    ],
    ['403', new GraphForbiddenError(d(403)), mid, { kind: 'forbidden' }],
    [
      '503, budget left',
      new GraphTransientError(d(503), undefined),
      mid,
      { kind: 'retry', unexpected: false },
    ],
    [
      '503, budget spent',
      new GraphTransientError(d(503), undefined),
      last,
      { kind: 'dead-letter', reason: 'retries_exhausted' },
    ],
    ['timeout', new GraphTimeoutError(d(null), 1000), mid, { kind: 'retry', unexpected: false }],
    [
      'connection error',
      new GraphNetworkError(d(null), new Error('ECONNRESET')),
      mid,
      { kind: 'retry', unexpected: false },
    ],
    [
      '429 without Retry-After',
      new GraphThrottledError(d(429), undefined),
      mid,
      { kind: 'retry', unexpected: false },
    ],
    ['a bug', new TypeError('x is undefined'), mid, { kind: 'retry', unexpected: true }],
    [
      'a bug on the last attempt',
      new TypeError('x is undefined'),
      last,
      { kind: 'dead-letter', reason: 'retries_exhausted', unexpected: true, error: null },
    ],
  ];
  it.each(rows)('%s', (_name, err, ctx, expected) => {
    expect(decideFailure(err, ctx)).toMatchObject(expected);
  });

  it('keeps the Graph error of a dead letter, so its status and request-id reach the record', () => {
    const err = new GraphTransientError(d(503), undefined);
    const decision = decideFailure(err, last);
    expect(decision).toMatchObject({ kind: 'dead-letter', error: err });
  });
});

describe("isTransient uses each Graph error class's own retryable flag", () => {
  it.each([
    [new GraphTransientError(d(503), 2000), true],
    [new GraphTimeoutError(d(null), 1000), true],
    [new GraphNetworkError(d(null), new Error('x')), true],
    [new GraphThrottledError(d(429), undefined), true],
    [new GraphThrottledError(d(429), 1500), false],
    [new GraphNotFoundError(d(404)), false],
    [new GraphForbiddenError(d(403)), false],
    [new GraphUnauthorizedError(d(401)), false],
    [new TokenAcquisitionError('x', 'server_error', true), true],
    [new TokenAcquisitionError('x', 'invalid_client', false), false],
    [new Error('other'), false],
  ])('%s → %s', (err, expected) => {
    expect(isTransient(err)).toBe(expected);
  });
});

describe('deadLetterInfo', () => {
  const progress = {
    graphCalls: 3,
    throttledWaits: 1,
    lastStatus: 503,
    lastRequestId: 'req-last',
    firstAttemptAt: '2026-11-30T00:00:00.000Z',
  };
  it('takes status, code, message and request-id from the Graph error when there is one', () => {
    const err = new GraphForbiddenError(d(403, { code: 'Forbidden', graphMessage: 'no scope tag' }));
    expect(deadLetterInfo(progress, 'forbidden', err)).toEqual({
      reason: 'forbidden',
      lastStatus: 403,
      graphCode: 'Forbidden',
      graphMessage: 'no scope tag',
      requestId: 'req-403',
      attempts: 3,
      throttledWaits: 1,
      firstAttemptAt: '2026-11-30T00:00:00.000Z',
    });
  });
  it('falls back to the job progress and the message without one', () => {
    expect(deadLetterInfo(progress, 'retries_exhausted', null, 'lock lost')).toEqual({
      reason: 'retries_exhausted',
      lastStatus: 503,
      graphMessage: 'lock lost',
      requestId: 'req-last',
      attempts: 3,
      throttledWaits: 1,
      firstAttemptAt: '2026-11-30T00:00:00.000Z',
    });
  });
});
