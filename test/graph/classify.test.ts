import { describe, expect, it } from 'vitest';
import { classifyResponse, parseGraphErrorBody } from '../../src/graph/classify.js';
import {
  GraphBadRequestError,
  GraphForbiddenError,
  GraphNotFoundError,
  GraphThrottledError,
  GraphTransientError,
  GraphUnauthorizedError,
} from '../../src/graph/errors.js';

const meta = { clientRequestId: 'crid-1', durationMs: 12 };
const noHeaders = new Headers();

function graphBody(code: string, message: string, requestId = 'inner-rid'): string {
  return JSON.stringify({
    error: {
      code,
      message,
      innerError: { 'request-id': requestId, date: '2025-01-01T00:00:00', 'client-request-id': 'crid-1' },
    },
  });
}

const intuneMessage = JSON.stringify({
  _version: 3,
  Message:
    'An error has occurred - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000 - Activity ID: 7f1b - Url: https://fef.msua06.manage.microsoft.com/x ',
  CustomApiErrorPhrase: '',
  RetryAfter: null,
  ErrorSourceService: '',
  HttpHeaders: '{}',
});

describe('classifyResponse', () => {
  it('maps every status class to its error', () => {
    const cases: Array<[number, new (...a: never[]) => Error]> = [
      [400, GraphBadRequestError],
      [401, GraphUnauthorizedError],
      [403, GraphForbiddenError],
      [404, GraphNotFoundError],
      [405, GraphBadRequestError],
      [409, GraphBadRequestError],
      [412, GraphBadRequestError],
      [422, GraphBadRequestError],
      [429, GraphThrottledError],
      [500, GraphTransientError],
      [502, GraphTransientError],
      [503, GraphTransientError],
      [504, GraphTransientError],
      [507, GraphTransientError],
    ];
    for (const [status, cls] of cases) {
      const err = classifyResponse(status, noHeaders, graphBody('SomeCode', 'x'), meta);
      expect(err, String(status)).toBeInstanceOf(cls);
      expect(err.status).toBe(status);
      expect(err.code).toBe('SomeCode');
      expect(err.clientRequestId).toBe('crid-1');
      expect(err.durationMs).toBe(12);
    }
  });

  it('prefers the request-id header, else innerError', () => {
    const h = new Headers({ 'request-id': 'hdr-rid' });
    expect(classifyResponse(404, h, graphBody('Request_ResourceNotFound', 'nope'), meta).requestId).toBe(
      'hdr-rid',
    );
    expect(
      classifyResponse(404, noHeaders, graphBody('Request_ResourceNotFound', 'nope'), meta).requestId,
    ).toBe('inner-rid');
  });

  it('reads Retry-After on 429 and 503, undefined when absent', () => {
    const t = classifyResponse(429, new Headers({ 'retry-after': '2.128' }), '', meta) as GraphThrottledError;
    expect(t.retryAfterMs).toBe(2128);
    const none = classifyResponse(429, noHeaders, '', meta) as GraphThrottledError;
    expect(none.retryAfterMs).toBeUndefined();
    const s = classifyResponse(503, new Headers({ 'retry-after': '3' }), '', meta) as GraphTransientError;
    expect(s.retryAfterMs).toBe(3000);
    expect(s.retryable).toBe(true);
  });

  it("unwraps Intune's JSON-in-message", () => {
    const err = classifyResponse(500, noHeaders, graphBody('UnknownError', intuneMessage), meta);
    expect(err.code).toBe('UnknownError');
    expect(err.graphMessage).toMatch(/^An error has occurred - Operation ID/);
    expect(err.graphMessage).not.toContain('_version');
  });

  it('uses an Intune RetryAfter when the header is missing', () => {
    const msg = JSON.stringify({ _version: 3, Message: 'slow down', RetryAfter: 4 });
    const err = classifyResponse(
      503,
      noHeaders,
      graphBody('ServiceUnavailable', msg),
      meta,
    ) as GraphTransientError;
    expect(err.retryAfterMs).toBe(4000);
  });

  it('survives non-JSON and empty bodies', () => {
    const html = classifyResponse(502, noHeaders, '<html>Bad gateway</html>', meta);
    expect(html).toBeInstanceOf(GraphTransientError);
    expect(html.graphMessage).toBe('<html>Bad gateway</html>');
    expect(html.code).toBeUndefined();
    expect(parseGraphErrorBody('')).toEqual({});
    expect(parseGraphErrorBody('{"error":"flat"}')).toEqual({ graphMessage: '{"error":"flat"}' });
    expect(parseGraphErrorBody('x'.repeat(5000)).graphMessage?.length).toBeLessThan(1100);
  });
});
