import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeAllDevicesFromManagement } from '../../src/graph/client.js';
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
import { InsecureGraphUrlError } from '../../src/graph/url.js';

interface Seen {
  method?: string;
  url?: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let base: string;
let handler: Handler = (_req, res) => res.writeHead(204).end();
const seen: Seen[] = [];
const sockets = new Set<string>();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      sockets.add(`${req.socket.remotePort}`);
      handler(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1.0`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function call(user: string, extra: Partial<Parameters<typeof removeAllDevicesFromManagement>[0]> = {}) {
  return removeAllDevicesFromManagement({ baseUrl: base, user, token: 'tok-123', timeoutMs: 2000, ...extra });
}

function reply(status: number, headers: Record<string, string> = {}, body = ''): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  };
}

describe('removeAllDevicesFromManagement', () => {
  it('POSTs the right request and returns the success record', async () => {
    handler = reply(204, { 'request-id': 'rid-ok' });
    seen.length = 0;
    const result = await call('ann@contoso.com', { clientRequestId: 'crid-a' });
    expect(result).toMatchObject({ status: 204, requestId: 'rid-ok', clientRequestId: 'crid-a' });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    const req = seen[0];
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/v1.0/users/ann%40contoso.com/removeAllDevicesFromManagement');
    expect(req?.headers.authorization).toBe('Bearer tok-123');
    expect(req?.headers['client-request-id']).toBe('crid-a');
    expect(req?.headers['return-client-request-id']).toBe('true');
    expect(req?.headers['content-length']).toBe('0');
    expect(req?.body).toBe('');
  });

  it('generates a client-request-id when none is given', async () => {
    handler = reply(204);
    seen.length = 0;
    const result = await call('0f8fad5b-d9cb-469f-a165-70867728950e');
    expect(result.clientRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[0]?.headers['client-request-id']).toBe(result.clientRequestId);
    expect(result.requestId).toBeUndefined();
  });

  it('sends encoded users on the wire ($ form, #, quote)', async () => {
    handler = reply(204);
    seen.length = 0;
    await call('$adele@contoso.com');
    await call('a#b@x.com');
    await call("o'neil@x.com");
    await call("$o'neil@x.com");
    expect(seen.map((s) => s.url)).toEqual([
      "/v1.0/users('%24adele%40contoso.com')/removeAllDevicesFromManagement",
      '/v1.0/users/a%23b%40x.com/removeAllDevicesFromManagement',
      "/v1.0/users/o'neil%40x.com/removeAllDevicesFromManagement",
      "/v1.0/users('%24o''neil%40x.com')/removeAllDevicesFromManagement",
    ]);
  });

  it('accepts any 2xx', async () => {
    handler = reply(200, {}, '{"ignored":true}');
    expect((await call('a@x.com')).status).toBe(200);
  });

  it('reuses the keep-alive connection across calls (bodies are consumed)', async () => {
    sockets.clear();
    handler = reply(404, {}, JSON.stringify({ error: { code: 'Request_ResourceNotFound', message: 'x' } }));
    for (let i = 0; i < 3; i++) await expect(call('a@x.com')).rejects.toBeInstanceOf(GraphNotFoundError);
    handler = reply(204);
    for (let i = 0; i < 3; i++) await call('a@x.com');
    // undici may open a second socket while the first is being released; one per call would mean no reuse.
    expect(sockets.size).toBeLessThanOrEqual(2);
  });

  it('maps each status class to its typed error with Graph details', async () => {
    const body = (code: string) =>
      JSON.stringify({ error: { code, message: 'msg', innerError: { 'request-id': 'inner', date: 'd' } } });
    const cases: Array<[number, new (...a: never[]) => Error, string]> = [
      [400, GraphBadRequestError, 'BadRequest'],
      [401, GraphUnauthorizedError, 'InvalidAuthenticationToken'],
      [403, GraphForbiddenError, 'Authorization_RequestDenied'],
      [404, GraphNotFoundError, 'Request_ResourceNotFound'],
      [409, GraphBadRequestError, 'Conflict'],
      [500, GraphTransientError, 'InternalServerError'],
      [503, GraphTransientError, 'ServiceUnavailable'],
      [504, GraphTransientError, 'GatewayTimeout'],
    ];
    for (const [status, cls, code] of cases) {
      handler = reply(status, { 'request-id': `rid-${status}` }, body(code));
      const err = await call('a@x.com', { clientRequestId: `c-${status}` }).catch((e: unknown) => e);
      expect(err, String(status)).toBeInstanceOf(cls);
      expect(err).toMatchObject({ status, code, requestId: `rid-${status}`, clientRequestId: `c-${status}` });
    }
  });

  it('reads Retry-After forms on 429', async () => {
    const forms: Array<[Record<string, string>, number | undefined]> = [
      [{ 'retry-after': '3' }, 3000],
      [{ 'retry-after': '2.128' }, 2128],
      [{}, undefined],
    ];
    for (const [headers, expected] of forms) {
      handler = reply(429, headers, '');
      const err = await call('a@x.com').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GraphThrottledError);
      expect((err as GraphThrottledError).retryAfterMs).toBe(expected);
    }
    handler = reply(429, { 'retry-after': new Date(Date.now() + 10_000).toUTCString() }, '');
    const dated = (await call('a@x.com').catch((e: unknown) => e)) as GraphThrottledError;
    expect(dated.retryAfterMs).toBeGreaterThan(7000);
    expect(dated.retryAfterMs).toBeLessThanOrEqual(10_000);
  });

  it("unwraps Intune's JSON-in-message on a 5xx", async () => {
    const message = JSON.stringify({
      _version: 3,
      Message: 'An error has occurred - Operation ID (for customer support): 1 - Activity ID: 2 ',
      CustomApiErrorPhrase: '',
      RetryAfter: null,
      ErrorSourceService: '',
      HttpHeaders: '{}',
    });
    handler = reply(
      500,
      {},
      JSON.stringify({ error: { code: 'UnknownError', message, innerError: { 'request-id': 'r9' } } }),
    );
    const err = (await call('a@x.com').catch((e: unknown) => e)) as GraphTransientError;
    expect(err).toBeInstanceOf(GraphTransientError);
    expect(err.graphMessage).toBe(
      'An error has occurred - Operation ID (for customer support): 1 - Activity ID: 2',
    );
    expect(err.requestId).toBe('r9');
  });

  it('times out on a server that never answers', async () => {
    handler = () => undefined; // hold the request open
    const err = (await call('a@x.com', { timeoutMs: 200 }).catch((e: unknown) => e)) as GraphTimeoutError;
    expect(err).toBeInstanceOf(GraphTimeoutError);
    expect(err.timeoutMs).toBe(200);
    expect(err.status).toBeNull();
    expect(err.durationMs).toBeGreaterThanOrEqual(150);
  });

  it('rethrows the caller abort reason rather than a Graph error', async () => {
    handler = () => undefined;
    const ctrl = new AbortController();
    const reason = new Error('shutting down');
    setTimeout(() => ctrl.abort(reason), 50);
    await expect(call('a@x.com', { signal: ctrl.signal, timeoutMs: 5000 })).rejects.toBe(reason);
  });

  it('reports connection refused as a network error', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = await removeAllDevicesFromManagement({
      baseUrl: `http://127.0.0.1:${port}/v1.0`,
      user: 'a@x.com',
      token: 't',
      timeoutMs: 2000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphNetworkError);
    expect((err as GraphNetworkError).status).toBeNull();
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('refuses plain http to a remote host before sending anything', async () => {
    await expect(
      removeAllDevicesFromManagement({
        baseUrl: 'http://graph.example.com/v1.0',
        user: 'a@x.com',
        token: 't',
        timeoutMs: 1000,
      }),
    ).rejects.toBeInstanceOf(InsecureGraphUrlError);
  });
});
