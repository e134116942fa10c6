// The paged Graph GET client against a local HTTP server: pages, request-ids, headers, the
// nextLink origin rule, error classification, timeout and body checks.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixedToken, type GraphCallContext, graphRead, graphReadAll } from '../../src/graph/call.js';
import { listManagedDevices, managedDevicesPath } from '../../src/graph/devices.js';
import {
  GraphForbiddenError,
  GraphNotFoundError,
  GraphThrottledError,
  GraphTimeoutError,
  GraphTransientError,
} from '../../src/graph/errors.js';
import { GraphPagingLimitError, GraphResponseBodyError } from '../../src/graph/read.js';
import { ForeignGraphUrlError, graphUrl, InsecureGraphUrlError } from '../../src/graph/url.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server;
let origin: string;
let base: string;
let handler: Handler;
const seen: { url: string; headers: IncomingMessage['headers'] }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  base = `${origin}/v1.0`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  seen.length = 0;
});

/** An unpaced context with a fixed token (the paced path is test/graph/call-feedback's). */
const ctxOf = (timeoutMs = 2000, token = 't'): GraphCallContext => ({
  baseUrl: base,
  timeoutMs,
  tokenProvider: fixedToken(token),
});
const graphGet = (timeoutMs = 2000) => graphRead(ctxOf(timeoutMs), { path: 'x', subject: 'u' });

function json(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
}

describe('graphGet / graphGetAll', () => {
  it('follows @odata.nextLink, returns every value and the request-id of each page, pacing each page', async () => {
    handler = (req, res) => {
      const page = Number(new URL(req.url ?? '', origin).searchParams.get('$skiptoken') ?? '0');
      json(
        200,
        {
          value: [{ id: `d${page * 2}` }, { id: `d${page * 2 + 1}` }].slice(0, page === 1 ? 1 : 2),
          ...(page < 1 ? { '@odata.nextLink': `${base}/things?$skiptoken=${page + 1}` } : {}),
        },
        { 'request-id': `req-${page}` },
      )(req, res);
    };
    const before: number[] = [];
    const after: string[] = [];
    let tokens = 0;
    const ctx: GraphCallContext = {
      baseUrl: base,
      timeoutMs: 2000,
      tokenProvider: { getToken: async () => `tok-${tokens++}` },
    };
    const out = await graphReadAll<{ id: string }>(ctx, {
      path: 'things',
      subject: 'u',
      headers: { ConsistencyLevel: 'eventual' },
      onExchange: (e) => {
        before.push(e.page);
        after.push(e.error === undefined ? `ok:${e.status}` : 'error');
      },
    });
    expect(out.value.map((d) => d.id)).toEqual(['d0', 'd1', 'd2']);
    expect(out.requestIds).toEqual(['req-0', 'req-1']);
    expect(out.pages).toBe(2);
    expect(before).toEqual([0, 1]);
    expect(after).toEqual(['ok:200', 'ok:200']);
    expect(seen.map((s) => s.headers.authorization)).toEqual(['Bearer tok-0', 'Bearer tok-1']);
    expect(seen[0]?.headers.consistencylevel).toBe('eventual');
    expect(seen[0]?.url).toBe('/v1.0/things');
  });

  it('refuses a nextLink on another origin before sending the token there', async () => {
    handler = json(200, {
      value: [{ id: 'a' }],
      '@odata.nextLink': 'https://evil.example.com/v1.0/things?p=2',
    });
    await expect(graphReadAll(ctxOf(), { path: 'things', subject: 'u' })).rejects.toBeInstanceOf(
      ForeignGraphUrlError,
    );
    expect(seen).toHaveLength(1);
    expect(() => graphUrl(base, 'http://127.0.0.2:1/v1.0/x')).toThrow(ForeignGraphUrlError);
    expect(() => graphUrl('http://graph.example.com/v1.0', 'x')).toThrow(InsecureGraphUrlError);
    expect(graphUrl(base, '/users/x')).toBe(`${base}/users/x`);
  });

  it('stops on a nextLink loop', async () => {
    handler = json(200, { value: [], '@odata.nextLink': `${base}/things` });
    await expect(graphReadAll(ctxOf(), { path: `${base}/things`, subject: 'u' })).rejects.toBeInstanceOf(
      GraphPagingLimitError,
    );
  });

  it('classifies failures like the retire call: 429 with Retry-After, 403, 404, 503; onExchange sees the error', async () => {
    const get = () => graphGet();
    handler = json(
      429,
      { error: { code: 'TooManyRequests', message: 'slow down' } },
      { 'retry-after': '2.5' },
    );
    const throttled = await get().catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(GraphThrottledError);
    expect((throttled as GraphThrottledError).retryAfterMs).toBe(2500);
    handler = json(
      403,
      { error: { code: 'Authorization_RequestDenied', message: 'no' } },
      { 'request-id': 'r403' },
    );
    await expect(get()).rejects.toMatchObject({ constructor: GraphForbiddenError, requestId: 'r403' });
    handler = json(404, { error: { code: 'Request_ResourceNotFound', message: 'none' } });
    await expect(get()).rejects.toBeInstanceOf(GraphNotFoundError);
    handler = json(503, { error: { code: 'ServiceUnavailable', message: '' } });
    const errors: unknown[] = [];
    await expect(
      graphReadAll(ctxOf(), {
        path: 'x',
        subject: 'u',
        onExchange: (e) => {
          if (e.error !== undefined) errors.push(e.error);
        },
      }),
    ).rejects.toBeInstanceOf(GraphTransientError);
    expect(errors[0]).toBeInstanceOf(GraphTransientError);
  });

  it('times out a slow answer and rejects a 2xx body that is not JSON', async () => {
    handler = (_req, res) => {
      setTimeout(() => json(200, { value: [] })(_req, res), 500);
    };
    await expect(graphGet(100)).rejects.toBeInstanceOf(GraphTimeoutError);
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"value": [');
    };
    await expect(graphGet()).rejects.toBeInstanceOf(GraphResponseBodyError);
  });

  it('listManagedDevices asks for the issue’s exact $select and keeps only those fields', async () => {
    handler = json(200, {
      value: [
        {
          id: 'd1',
          deviceName: 'PC',
          managementState: 'managed',
          isSupervised: true,
          userId: 'secret',
          notes: 'x',
        },
        { nope: 1 },
      ],
    });
    const out = await listManagedDevices({
      baseUrl: base,
      user: 'ann@contoso.com',
      token: 't',
      timeoutMs: 2000,
    });
    // isSupervised stays a boolean: a device policy's `supervised` match compares it as one.
    expect(out.value).toEqual([
      { id: 'd1', deviceName: 'PC', managementState: 'managed', isSupervised: true },
    ]);
    expect(decodeURIComponent(seen[0]?.url ?? '')).toBe(
      '/v1.0/users/ann@contoso.com/managedDevices?$select=id,deviceName,operatingSystem,osVersion,model,manufacturer,serialNumber,managementState,managedDeviceOwnerType,complianceState,lastSyncDateTime,enrolledDateTime,deviceEnrollmentType,isSupervised',
    );
    expect(managedDevicesPath("$x'y@contoso.com")).toMatch(
      /^users\('%24x''y%40contoso\.com'\)\/managedDevices\?/,
    );
  });
});
