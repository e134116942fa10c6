// A client generated from the served OpenAPI document (openapi-typescript, a real generator)
// type-checks a small integrator's program with the project's tsc. The program leans on what a
// client needs: named schemas, required fields, enums taken from src/interfaces.ts. The same
// program fails to compile against a document where one field became optional or a name changed,
// so the check cannot pass by accident.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_REASONS, OUTCOMES } from '../../src/interfaces.js';
import { type TestApi, testApp } from './helpers.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const GENERATOR = join(ROOT, 'node_modules/openapi-typescript/bin/cli.js');
const TS_HOOK = join(ROOT, 'test/helpers/typescript-js-api.mjs');
const TSC = join(ROOT, 'node_modules/.bin/tsc');

const quoted = (xs: readonly string[]) => xs.map((x) => `${x}: true`).join(', ');

/** What an HR system's developer would write against the generated types. */
const SAMPLE = `import type { components, paths } from './api.js';

type Schemas = components['schemas'];
type Required<T, K extends keyof T> = {} extends Pick<T, K> ? false : true;
type Check<T extends true> = T;

// Fields the server always sends are required, not optional.
export type Checks = [
  Check<Required<Schemas['EnqueueResult'], 'id'>>,
  Check<Required<Schemas['EnqueueResult'], 'state'>>,
  Check<Required<Schemas['JobView'], 'record'>>,
  Check<Required<Schemas['BatchResponse'], 'held'>>,
  Check<Required<Schemas['BatchSummary'], 'count'>>,
  Check<Required<Schemas['DeadLetter'], 'reason'>>,
  Check<Required<Schemas['QueueStatus'], 'paused'>>,
  Check<Required<Schemas['Problem'], 'code'>>,
  Check<Required<Schemas['Problem'], 'error'>>,
];

type Submit = paths['/v1/offboardings']['post'];
export const request: Submit['requestBody'] extends { content: { 'application/json': infer B } } ? B : never = {
  user: 'alice@contoso.com',
  dryRun: true,
};

export function accepted(answer: Submit['responses'][202]['content']['application/json']): string {
  const id: string = answer.id;
  const held: boolean = answer.state === 'held';
  return held ? 'held ' + id : id + ' ' + answer.state;
}

export function failed(problem: Submit['responses'][422]['content']['application/problem+json']): string {
  const status: number = problem.status;
  const legacy: string = problem.error.code;
  return problem.code + ' ' + status + ' ' + legacy + ' ' + problem.detail;
}

// Enums: every value handled, and no value the server does not send.
export const reasons: Record<Schemas['DeadLetter']['reason'], true> = { ${quoted(DEAD_LETTER_REASONS)} };
export const outcomes: Record<Schemas['RetireRecord']['outcome'], true> = { ${quoted(OUTCOMES)} };

export function finished(job: Schemas['JobView']): string | null {
  if (job.state !== 'completed' || job.record === null) return null;
  const attempts: number = job.record.attempts;
  return job.record.outcome + ' after ' + attempts + ' call(s), at ' + job.record.finishedAt;
}
`;

const TSCONFIG = {
  compilerOptions: {
    strict: true,
    noEmit: true,
    target: 'es2022',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    types: [],
    skipLibCheck: false,
  },
  files: ['sample.ts'],
};

let t: TestApi;
let dir: string;
// biome-ignore lint/suspicious/noExplicitAny: the served JSON document, changed by hand below
let doc: any;

beforeAll(async () => {
  t = await testApp();
  dir = mkdtempSync(join(tmpdir(), 'offboard-client-'));
  doc = (await t.app.inject({ url: '/docs/json' })).json();
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Generates the client from `document` and compiles the sample: tsc's exit and output. */
async function compileAgainst(document: unknown, name: string): Promise<{ ok: boolean; output: string }> {
  const work = join(dir, name);
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'openapi.json'), JSON.stringify(document));
  await run(process.execPath, ['--import', TS_HOOK, GENERATOR, 'openapi.json', '-o', 'api.d.ts'], {
    cwd: work,
  });
  writeFileSync(join(work, 'sample.ts'), SAMPLE);
  writeFileSync(join(work, 'tsconfig.json'), JSON.stringify(TSCONFIG));
  try {
    const out = await run(TSC, ['-p', 'tsconfig.json'], { cwd: work });
    return { ok: true, output: out.stdout + out.stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('a client generated from the OpenAPI document', () => {
  it('compiles a sample program that relies on required fields, names and enums', async () => {
    const out = await compileAgainst(doc, 'served');
    expect(out.output).toBe('');
    expect(out.ok).toBe(true);
  }, 240_000);

  it('fails to compile when a field becomes optional, a schema is renamed or an enum loses a value', async () => {
    // One changed document (each generation takes seconds), three separate compile errors.
    const changed = structuredClone(doc);
    const enqueue = changed.components.schemas.EnqueueResult;
    enqueue.required = enqueue.required.filter((f: string) => f !== 'id');
    changed.components.schemas.RetireRecord.properties.outcome.enum = ['retired', 'dry_run'];
    changed.components.schemas.DeadLetterRecord = changed.components.schemas.DeadLetter;
    delete changed.components.schemas.DeadLetter;
    const text = JSON.stringify(changed).replaceAll(
      '#/components/schemas/DeadLetter"',
      '#/components/schemas/DeadLetterRecord"',
    );
    const out = await compileAgainst(JSON.parse(text), 'changed');
    expect(out.ok).toBe(false);
    expect(out.output).toMatch(/'string \| undefined' is not assignable to type 'string'/);
    expect(out.output).toMatch(/Property 'DeadLetter' does not exist/);
    expect(out.output).toMatch(/'no_devices' does not exist in type/);
  }, 240_000);
});
