// Graph-shaped answers: 204 with request ids, or `{"error":{code,message,innerError}}` bodies,
// with Intune's JSON-in-message on 5xx the way the real service sends it.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { sendJson } from '../http.js';

export interface ReplyIds {
  requestId: string;
  clientRequestId?: string;
}

const CODES: Record<number, [string, string]> = {
  400: ['BadRequest', 'Invalid request for this user.'],
  401: ['InvalidAuthenticationToken', 'Access token is empty.'],
  403: ['Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'],
  404: [
    'Request_ResourceNotFound',
    'Resource does not exist or one of its queried reference-property objects are not present.',
  ],
  405: ['BadRequest', 'Method not allowed for this resource.'],
  429: ['TooManyRequests', 'Too many requests, retry later.'],
  500: ['UnknownError', ''],
  502: ['BadGateway', ''],
  503: ['ServiceUnavailable', ''],
  504: ['GatewayTimeout', ''],
};

export function replyHeaders(ids: ReplyIds, extra: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = { 'request-id': ids.requestId, ...extra };
  if (ids.clientRequestId) headers['client-request-id'] = ids.clientRequestId;
  return headers;
}

export function replySuccess(res: ServerResponse, status: number, ids: ReplyIds): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, replyHeaders(ids));
  res.end();
}

export function replyError(
  res: ServerResponse,
  status: number,
  ids: ReplyIds,
  opts: { code?: string; message?: string; retryAfter?: string } = {},
): void {
  const [defaultCode, defaultMessage] = CODES[status] ?? [status >= 500 ? 'UnknownError' : 'BadRequest', ''];
  let message = opts.message ?? defaultMessage;
  if (status >= 500 && !opts.message) message = intuneMessage(status);
  const body = {
    error: {
      code: opts.code ?? defaultCode,
      message,
      innerError: {
        date: new Date().toISOString().slice(0, 19),
        'request-id': ids.requestId,
        'client-request-id': ids.clientRequestId ?? ids.requestId,
      },
    },
  };
  const extra: Record<string, string> =
    opts.retryAfter === undefined ? {} : { 'retry-after': opts.retryAfter };
  sendJson(res, status, body, replyHeaders(ids, extra));
}

function intuneMessage(status: number): string {
  return JSON.stringify({
    _version: 3,
    Message: `An error has occurred - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000 - Activity ID: ${randomUUID()} - Url: https://fef.msua01.manage.microsoft.com/DeviceFE/StatelessDeviceFEService/deviceManagement/removeAllDevicesFromManagement?api-version=2023-05-01 - Status: ${status}`,
    CustomApiErrorPhrase: '',
    RetryAfter: null,
    ErrorSourceService: '',
    HttpHeaders: '{}',
  });
}
