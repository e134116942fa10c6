// The simulator's user directory over real HTTP: the leave-date filter evaluated for real, the
// advanced query parameters Graph requires, $select, paging with @odata.nextLink, the permission
// switches and a failing page.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PERMISSIONS } from '../../src/sim/tokens.js';
import { fetchAppToken, startTestSimulator, type TestSimulator } from '../helpers/sim.js';

let sim: TestSimulator;
let token: string;

const SELECT = 'id,userPrincipalName,employeeLeaveDateTime,accountEnabled';

function usersUrl(filter: string, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams({ $filter: filter, $select: SELECT, $count: 'true', ...extra });
  return `${sim.graphBaseUrl}/users?${q.toString().replaceAll('+', '%20')}`;
}

async function get(url: string, headers: Record<string, string> = { consistencylevel: 'eventual' }) {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, ...headers } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const window = (from: string, to: string) =>
  `employeeLeaveDateTime ge ${from} and employeeLeaveDateTime le ${to}`;

beforeAll(async () => {
  sim = await startTestSimulator();
  token = await fetchAppToken(sim);
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.control({
    users: {
      clear: true,
      upsert: [
        { userPrincipalName: 'early@contoso.com', employeeLeaveDateTime: '2026-12-01T08:00:00Z' },
        { userPrincipalName: 'edge@contoso.com', employeeLeaveDateTime: '2026-12-10T00:00:00Z' },
        { userPrincipalName: 'late@contoso.com', employeeLeaveDateTime: '2027-01-15T00:00:00+01:00' },
        { userPrincipalName: 'stays@contoso.com', employeeLeaveDateTime: null },
        {
          userPrincipalName: 'disabled@contoso.com',
          employeeLeaveDateTime: '2026-12-05T12:00:00Z',
          accountEnabled: false,
        },
      ],
    },
    usersFailPage: null,
    permissions: { grant: [PERMISSIONS.readUsers, PERMISSIONS.readLifecycleInfo] },
  });
});

describe('GET /v1.0/users with a leave-date filter', () => {
  it('evaluates ge/le/gt/lt joined by and, inclusive at the edges, never matching users without a date', async () => {
    const r = await get(usersUrl(window('2026-12-01T08:00:00Z', '2026-12-10T00:00:00Z')));
    expect(r.status).toBe(200);
    const upns = (r.body.value as { userPrincipalName: string }[]).map((u) => u.userPrincipalName).sort();
    expect(upns).toEqual(['disabled@contoso.com', 'early@contoso.com', 'edge@contoso.com']);
    expect(r.body['@odata.count']).toBe(3);

    const strict = await get(
      usersUrl(
        'employeeLeaveDateTime gt 2026-12-01T08:00:00Z and employeeLeaveDateTime lt 2026-12-10T00:00:00Z',
      ),
    );
    expect((strict.body.value as unknown[]).length).toBe(1);
    // An offset in the stored date is compared as an instant (2027-01-14T23:00Z).
    const late = await get(usersUrl('employeeLeaveDateTime ge 2027-01-14T23:00:00Z'));
    expect((late.body.value as { userPrincipalName: string }[]).map((u) => u.userPrincipalName)).toEqual([
      'late@contoso.com',
    ]);
  });

  it('returns exactly the $select fields, the leave date in UTC', async () => {
    const r = await get(usersUrl(window('2026-11-30T00:00:00Z', '2026-12-02T00:00:00Z')));
    const [u] = r.body.value as Record<string, unknown>[];
    expect(Object.keys(u ?? {}).sort()).toEqual(SELECT.split(',').sort());
    expect(u).toMatchObject({
      userPrincipalName: 'early@contoso.com',
      employeeLeaveDateTime: '2026-12-01T08:00:00Z',
      accountEnabled: true,
    });
    expect(String(u?.id)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('requires the advanced query parameters (ConsistencyLevel: eventual and $count=true)', async () => {
    const noHeader = await get(usersUrl(window('2026-12-01T00:00:00Z', '2026-12-31T00:00:00Z')), {});
    expect(noHeader.status).toBe(400);
    expect(noHeader.body).toMatchObject({
      error: { code: 'Request_BadRequest', message: '$count is not currently supported.' },
    });
    const noCount = await get(
      usersUrl(window('2026-12-01T00:00:00Z', '2026-12-31T00:00:00Z'), { $count: 'false' }),
    );
    expect(noCount.status).toBe(400);
    expect(noCount.body).toMatchObject({
      error: {
        code: 'Request_UnsupportedQuery',
        message:
          "Unsupported or invalid query filter clause specified for property 'employeeLeaveDateTime' of resource 'User'.",
      },
    });
  });

  it('refuses anything but leave-date comparisons joined by and', async () => {
    for (const bad of [
      'employeeLeaveDateTime eq 2026-12-01T00:00:00Z',
      'employeeLeaveDateTime ge 2026-12-01T00:00:00Z or employeeLeaveDateTime le 2026-12-31T00:00:00Z',
      'accountEnabled eq true',
      "employeeLeaveDateTime ge '2026-12-01T00:00:00Z'",
      'employeeLeaveDateTime ge 2026-12-01',
      'employeeLeaveDateTime ge',
      'employeeLeaveDateTime ge 2026-12-01T00:00:00Z and',
    ]) {
      const r = await get(usersUrl(bad));
      expect(r.status, bad).toBe(400);
      expect((r.body.error as { code: string }).code, bad).toMatch(/^(BadRequest|Request_UnsupportedQuery)$/);
    }
    const badSelect = await get(
      usersUrl(window('2026-12-01T00:00:00Z', '2026-12-31T00:00:00Z'), { $select: 'id,password' }),
    );
    expect(badSelect.status).toBe(400);
    const badTop = await get(
      usersUrl(window('2026-12-01T00:00:00Z', '2026-12-31T00:00:00Z'), { $top: '1000' }),
    );
    expect(badTop.status).toBe(400);
  });

  it('pages with $top and @odata.nextLink until every match was read once', async () => {
    sim.control({
      users: {
        upsert: Array.from({ length: 23 }, (_, i) => ({
          userPrincipalName: `bulk${i}@contoso.com`,
          employeeLeaveDateTime: '2026-12-20T09:00:00Z',
        })),
      },
    });
    let url: string | undefined = usersUrl(window('2026-12-20T00:00:00Z', '2026-12-21T00:00:00Z'), {
      $top: '10',
    });
    const seen: string[] = [];
    let pages = 0;
    while (url) {
      const r = await get(url);
      expect(r.status).toBe(200);
      expect(r.body['@odata.count']).toBe(23);
      seen.push(...(r.body.value as { userPrincipalName: string }[]).map((u) => u.userPrincipalName));
      url = r.body['@odata.nextLink'] as string | undefined;
      if (url) expect(url).toContain('$skiptoken=');
      pages++;
    }
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(23);
  });

  it('fails the chosen page with 503 while usersFailPage is set', async () => {
    sim.control({
      users: {
        upsert: Array.from({ length: 5 }, (_, i) => ({
          userPrincipalName: `pg${i}@contoso.com`,
          employeeLeaveDateTime: '2026-12-24T09:00:00Z',
        })),
      },
      usersFailPage: 2,
    });
    const first = await get(usersUrl(window('2026-12-24T00:00:00Z', '2026-12-25T00:00:00Z'), { $top: '2' }));
    expect(first.status).toBe(200);
    const second = await get(first.body['@odata.nextLink'] as string);
    expect(second.status).toBe(503);
    sim.control({ usersFailPage: null });
    expect((await get(first.body['@odata.nextLink'] as string)).status).toBe(200);
  });

  it('answers 403 without User.Read.All or User-LifeCycleInfo.Read.All, and 401 without a token', async () => {
    const url = usersUrl(window('2026-12-01T00:00:00Z', '2026-12-31T00:00:00Z'));
    sim.control({ permissions: { deny: [PERMISSIONS.readLifecycleInfo] } });
    const noLifecycle = await get(url);
    expect(noLifecycle.status).toBe(403);
    expect(noLifecycle.body).toMatchObject({ error: { code: 'Authorization_RequestDenied' } });
    sim.control({
      permissions: { grant: [PERMISSIONS.readLifecycleInfo], deny: [PERMISSIONS.readUsers] },
    });
    expect((await get(url)).status).toBe(403);
    sim.control({ permissions: { grant: [PERMISSIONS.readUsers] } });
    expect((await get(url)).status).toBe(200);
    const anonymous = await fetch(url, { headers: { consistencylevel: 'eventual' } });
    expect(anonymous.status).toBe(401);
  });

  it('moves, clears and removes a leave date through control', async () => {
    const url = usersUrl(window('2026-12-01T00:00:00Z', '2026-12-31T00:00:00Z'));
    sim.control({
      users: {
        upsert: [
          { userPrincipalName: 'early@contoso.com', employeeLeaveDateTime: '2027-03-01T00:00:00Z' },
          { userPrincipalName: 'edge@contoso.com', employeeLeaveDateTime: null },
        ],
        remove: ['disabled@contoso.com'],
      },
    });
    const r = await get(url);
    expect(r.body.value).toEqual([]);
    expect(() =>
      sim.control({
        users: { upsert: [{ userPrincipalName: 'x@contoso.com', employeeLeaveDateTime: 'soon' }] },
      }),
    ).toThrow();
  });
});
