// Generators of malformed requests for the hostile-input test: wrong types, huge strings, control
// and invisible characters, path tricks, nesting, bad JSON and content types, oversized batches.
import { KEYS } from './helpers.js';

export interface Probe {
  method: string;
  path: string;
  body?: string;
  contentType?: string;
  key?: string;
}

// A small seeded PRNG so a failure can be replayed.
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CONTROL = [
  '\u0000',
  '\u0001',
  '\u0007',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u200b',
  '\u200e',
  '\u2028',
  '\u202e',
  '\u2066',
  '\ufeff',
];
const PATHS = [
  '../etc/passwd',
  '..%2f..%2fetc',
  '%2e%2e',
  '%2e%2e%2f',
  '..\\..\\win.ini',
  'a/b@contoso.com',
  '/etc/passwd',
  '..',
  '.',
  '%00',
  '\\\\server\\share',
  'user@contoso.com/../x',
  'file:///etc/passwd',
  'alice@contoso.com%0d%0a',
];
const WRONG_TYPES: unknown[] = [
  0,
  1.5,
  -1,
  true,
  false,
  null,
  [],
  ['alice@contoso.com'],
  {},
  { user: 'alice@contoso.com' },
  1e308,
];
const HUGE = ['a'.repeat(321), 'a'.repeat(10_000), `${'a'.repeat(200_000)}@contoso.com`, 'é'.repeat(5000)];
const BAD_DATES = [
  'tomorrow',
  '2026-12-01',
  '2026-12-01T17:00:00',
  '2026-13-45T99:99:99Z',
  '0000-00-00T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '2026-12-01T17:00:00+25:00',
  '',
];
const BAD_CORRELATION = ['has space', 'x'.repeat(129), 'semi;colon', '<script>', 'tab\there', '\u202eabc'];

function bodies(): { body: string; contentType?: string }[] {
  const out: { body: string; contentType?: string }[] = [];
  const j = (v: unknown) => ({ body: JSON.stringify(v) });
  // Wrong types in every field.
  for (const v of WRONG_TYPES) {
    out.push(j({ user: v }));
    out.push(j({ user: 'alice@contoso.com', reason: v === null ? 5 : v }));
    if (typeof v !== 'boolean') out.push(j({ user: 'alice@contoso.com', dryRun: v ?? 'true' }));
    if (v !== null) out.push(j({ user: 'alice@contoso.com', effectiveAt: v }));
    if (v !== null) out.push(j({ user: 'alice@contoso.com', correlationId: v }));
  }
  out.push(j({ user: 'alice@contoso.com', dryRun: 'true' }), j({ user: 'alice@contoso.com', dryRun: 1 }));
  // Huge strings.
  for (const h of HUGE) {
    out.push(
      j({ user: h }),
      j({ user: 'alice@contoso.com', reason: h.length > 500 ? h : `${h}${'b'.repeat(600)}` }),
    );
    out.push(j({ user: 'alice@contoso.com', correlationId: h }));
  }
  // Control and invisible characters, in every position of user and in reason.
  for (const c of CONTROL) {
    out.push(
      j({ user: `ali${c}ce@contoso.com` }),
      j({ user: `${c}alice@contoso.com` }),
      j({ user: `alice@contoso.com${c}x` }),
    );
    out.push(j({ user: 'alice@contoso.com', reason: `left${c}company` }));
    out.push(j({ user: 'alice@contoso.com', correlationId: `ab${c}` }));
  }
  // Path tricks.
  for (const p of PATHS) out.push(j({ user: p }), j({ user: `${p}@contoso.com` }), j({ user: `alice@${p}` }));
  // Dates and correlation ids.
  for (const d of BAD_DATES) out.push(j({ user: 'alice@contoso.com', effectiveAt: d }));
  for (const c of BAD_CORRELATION) out.push(j({ user: 'alice@contoso.com', correlationId: c }));
  // Missing and unknown fields, nesting, prototype pollution.
  out.push(
    j({}),
    j({ reason: 'left' }),
    j({ User: 'alice@contoso.com' }),
    j({ user: 'alice@contoso.com', admin: true }),
  );
  out.push(j({ user: 'alice@contoso.com', nested: { a: { b: { c: 1 } } } }));
  out.push({ body: '{"user":"alice@contoso.com","__proto__":{"polluted":true}}' });
  out.push({ body: '{"user":"alice@contoso.com","constructor":{"prototype":{"polluted":true}}}' });
  let deep: unknown = 'alice@contoso.com';
  for (let i = 0; i < 2000; i++) deep = { user: deep };
  out.push(j(deep));
  out.push({ body: `${'['.repeat(5000)}${']'.repeat(5000)}` });
  // Not objects, not JSON, wrong content types.
  for (const v of ['"alice@contoso.com"', '123', 'null', 'true', '[]', '[{"user":"alice@contoso.com"}]'])
    out.push({ body: v });
  for (const v of [
    '{',
    '{"user":',
    '{"user":"alice@contoso.com",}',
    "{'user':'alice@contoso.com'}",
    'NaN',
    '\u0000',
    '{"user":"alice@contoso.com"}}',
    '{"user":"\\ud800@contoso.com"}',
  ]) {
    out.push({ body: v });
  }
  out.push({ body: '', contentType: 'application/json' });
  for (const ct of [
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
  ]) {
    out.push({
      body: ct.startsWith('application/x-www') ? 'user=alice%40contoso.com' : 'user=alice@contoso.com',
      contentType: ct,
    });
  }
  return out;
}

function batchBodies(random: () => number): string[] {
  const out: string[] = [];
  out.push(
    JSON.stringify({ items: Array.from({ length: 11_000 }, (_, i) => ({ user: `u${i}@contoso.com` })) }),
  );
  out.push(
    JSON.stringify({ items: [] }),
    JSON.stringify({ items: 'alice@contoso.com' }),
    JSON.stringify({ items: {} }),
  );
  out.push(
    JSON.stringify({}),
    JSON.stringify({ items: [{ user: 'a@contoso.com' }], extra: 1 }),
    JSON.stringify([{ user: 'a@contoso.com' }]),
  );
  out.push(JSON.stringify({ items: [{ user: 'a@contoso.com' }], dryRun: 'yes' }));
  // Batches in which every item is malformed: nothing valid, so 400 and nothing stored.
  for (let b = 0; b < 60; b++) {
    const items = Array.from({ length: 1 + Math.floor(random() * 50) }, () => badItem(random));
    out.push(JSON.stringify({ items }));
  }
  return out;
}

function badItem(random: () => number): unknown {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(random() * a.length)] as T;
  switch (Math.floor(random() * 7)) {
    case 0:
      return { user: pick(WRONG_TYPES) };
    case 1:
      return { user: `x${pick(CONTROL)}y@contoso.com` };
    case 2:
      return { user: pick(PATHS) };
    case 3:
      return { user: 'ok@contoso.com', effectiveAt: pick(BAD_DATES), extra: true };
    case 4:
      return pick([0, true, null, 'alice@contoso.com', ['alice@contoso.com'], 1.5]);
    case 5:
      return { user: 'ok@contoso.com', correlationId: pick(BAD_CORRELATION) };
    default:
      return { user: pick(HUGE) };
  }
}

/** Random mutations of a valid body: each makes it invalid for a known reason. */
function fuzzBodies(random: () => number, count: number): string[] {
  const out: string[] = [];
  const fields = ['user', 'reason', 'effectiveAt', 'dryRun', 'correlationId'];
  for (let i = 0; i < count; i++) {
    const body: Record<string, unknown> = { user: `fuzz${i}@contoso.com` };
    const field = fields[Math.floor(random() * fields.length)] as string;
    const kind = Math.floor(random() * 5);
    if (kind === 0) body[field] = WRONG_TYPES[Math.floor(random() * WRONG_TYPES.length)] ?? 0;
    else if (kind === 1) body[`${field}${Math.floor(random() * 1000)}`] = 'x';
    else if (kind === 2) body.user = `fu${CONTROL[Math.floor(random() * CONTROL.length)]}zz${i}@contoso.com`;
    else if (kind === 3) body.user = `${PATHS[Math.floor(random() * PATHS.length)]}${i}`;
    else body.effectiveAt = `${BAD_DATES[Math.floor(random() * BAD_DATES.length)]}x`;
    // Values that happen to be valid for an optional field are made invalid on purpose.
    if ((field === 'reason' || field === 'effectiveAt' || field === 'correlationId') && body[field] === null)
      body[field] = 7;
    if (field === 'dryRun' && typeof body.dryRun === 'boolean') body.dryRun = 'maybe';
    if (field === 'user' && kind === 0) body.user = body.user ?? 0;
    out.push(JSON.stringify(body));
  }
  return out;
}

export function probes(): Probe[] {
  const random = rng(4242);
  const list: Probe[] = [];
  for (const b of bodies()) {
    list.push({ method: 'POST', path: '/v1/offboardings', body: b.body, contentType: b.contentType });
    // The same bodies as the only item of a batch (items must be objects; non-JSON stays non-JSON).
    list.push({
      method: 'POST',
      path: '/v1/offboardings/batch',
      body: `{"items":[${b.body || 'null'}]}`,
      contentType: b.contentType,
    });
  }
  for (const body of batchBodies(random)) list.push({ method: 'POST', path: '/v1/offboardings/batch', body });
  for (const body of fuzzBodies(random, 600)) list.push({ method: 'POST', path: '/v1/offboardings', body });
  // Oversized body.
  list.push({
    method: 'POST',
    path: '/v1/offboardings',
    body: JSON.stringify({ user: 'a'.repeat(5 * 1024 * 1024) }),
  });
  // Hostile path parameters and query strings.
  for (const p of PATHS.concat(['x'.repeat(300), '%E2%80%AE', '%00abc', '.hidden', 'a..b', '%2e%2e%2fetc'])) {
    const seg = encodeURIComponent(p);
    list.push({ method: 'GET', path: `/v1/offboardings/${seg}`, key: KEYS.viewer });
    list.push({ method: 'DELETE', path: `/v1/offboardings/${seg}`, key: KEYS.operator });
    list.push({ method: 'POST', path: `/v1/dead-letters/${seg}/redrive`, key: KEYS.operator });
    list.push({ method: 'POST', path: `/v1/batches/${seg}/approve`, key: KEYS.operator });
  }
  for (const q of [
    'limit=-1',
    'limit=abc',
    'limit=100000',
    'offset=-5',
    'reason=%3Cscript%3E',
    'reason=forbidden&extra=1',
    'limit=1e3x',
  ]) {
    list.push({ method: 'GET', path: `/v1/dead-letters?${q}`, key: KEYS.viewer });
  }
  for (const q of ['state=nope', 'limit=0', 'x=1'])
    list.push({ method: 'GET', path: `/v1/batches?${q}`, key: KEYS.viewer });
  // Action bodies with unknown fields or bad reasons.
  for (const body of [
    '{"reason":5}',
    '{"reason":"a\\u0000b"}',
    `{"reason":"${'r'.repeat(501)}"}`,
    '{"force":true}',
    '[]',
  ]) {
    list.push({ method: 'POST', path: '/v1/queues/retire/pause', body, key: KEYS.operator });
    list.push({ method: 'POST', path: '/v1/batches/some-id/reject', body, key: KEYS.operator });
  }
  return list;
}
