// Readers for the deployment files: there is no Docker engine or Kubernetes cluster here, so the tests
// parse Dockerfile, .dockerignore, compose and manifests and check the promises made about them.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { envFields } from '../../src/config/schema.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function repoFile(rel: string): string {
  return readFileSync(join(ROOT, rel), 'utf8');
}

export function repoHas(rel: string): boolean {
  return existsSync(join(ROOT, rel));
}

/** Every file under a folder of the repository, as repository-relative paths. */
export function filesUnder(rel: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(relative(ROOT, full));
    }
  };
  walk(join(ROOT, rel));
  return out.sort();
}

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form documents walked by the tests
export type Doc = any;

/** All YAML documents of a file; compose's `<<` merge keys are resolved. */
export function yamlDocs(rel: string): Doc[] {
  const docs = parseAllDocuments(repoFile(rel), { merge: true });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list) if (d.errors.length > 0) throw new Error(`${rel}: ${d.errors[0]?.message}`);
  return list.map((d) => d.toJS({ maxAliasCount: 100 })).filter((d) => d !== null && d !== undefined);
}

export interface DockerInstruction {
  op: string;
  args: string;
}

export interface DockerStage {
  from: string;
  name?: string;
  instructions: DockerInstruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Record<string, string>;
  stages: DockerStage[];
}

/** Enough of the Dockerfile grammar for these files: comments, `\` continuations, stages. */
export function parseDockerfile(text: string): Dockerfile {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (!current && /^\s*#/.test(line)) continue;
    if (/^\s*#/.test(line)) continue; // comment inside a continuation
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim()) logical.push(current.trim());
    current = '';
  }
  const globalArgs: Record<string, string> = {};
  const stages: DockerStage[] = [];
  for (const l of logical) {
    const m = /^(\w+)\s*(.*)$/s.exec(l);
    if (!m) continue;
    const op = (m[1] as string).toUpperCase();
    const args = (m[2] as string).trim();
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: f?.[1] ?? args, name: f?.[2], instructions: [] });
    } else if (stages.length === 0 && op === 'ARG') {
      const [k, v] = args.split('=');
      globalArgs[k as string] = v ?? '';
    } else stages.at(-1)?.instructions.push({ op, args });
  }
  return { globalArgs, stages };
}

/** Replaces ${NAME} and $NAME with the global ARG defaults. */
export function expandArgs(text: string, args: Record<string, string>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args[a ?? b] ?? '');
}

/** Docker's .dockerignore rules: last matching pattern wins, `!` re-includes, `**` spans folders. */
export function dockerIgnored(patterns: string[], path: string): boolean {
  const toRegex = (p: string) =>
    new RegExp(
      `^${p
        .replace(/^\/+/, '')
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\//g, '§DIRS§')
        .replace(/\*\*/g, '.*')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
        .replace(/§DIRS§/g, '(?:.*/)?')}(?:/.*)?$`,
    );
  let ignored = false;
  for (const raw of patterns) {
    const p = raw.trim();
    if (!p || p.startsWith('#')) continue;
    const negate = p.startsWith('!');
    if (toRegex(negate ? p.slice(1) : p).test(path)) ignored = !negate;
  }
  return ignored;
}

export function dockerignorePatterns(): string[] {
  return repoFile('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** Env var names the configuration schema reads (src/config/schema.ts), so docs and examples cannot drift. */
export function configEnvNames(): Set<string> {
  return new Set(Object.keys(envFields.shape));
}

/**
 * Whether a documented name is a setting: one the schema reads, a family written as its prefix
 * (`PACE_FAILURE_*` → `PACE_FAILURE_`), or a feed token variable (read by name at each sweep tick).
 */
export function isKnownSetting(name: string, known: Set<string> = configEnvNames()): boolean {
  if (known.has(name) || name.startsWith('OFFBOARD_FEED_TOKEN_')) return true;
  return name.endsWith('_') && [...known].some((k) => k.startsWith(name));
}
