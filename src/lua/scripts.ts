// Every Lua script lives in a .lua file under src/lua/<concept>/, and runs
// through this module: sources are read once (at import, so a missing file fails at start-up,
// not at the first approval or the first wrong API key), and each script is registered on a
// client with ioredis defineCommand (EVALSHA with a transparent EVAL fallback after a SCRIPT FLUSH
// or a failover). A script lists its KEYS count here; callers pass
// every key it touches, so one `{offboard}` hash tag keeps them in one Redis Cluster slot.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RedisClient } from '../redis/connection.js';

interface ScriptSpec {
  /** Number of KEYS the script takes. */
  keys: number;
  /** Library files (no KEYS of their own) prepended to the script: shared local functions. */
  uses?: readonly string[];
}

const SCRIPTS = {
  'api/auth-failure': { keys: 1 },
  'records/append-audit': { keys: 2 },
  'pacer/acquire': { keys: 6 },
  'pacer/throttled': { keys: 2 },
  'pacer/health': { keys: 5 },
  'circuit/forbidden': { keys: 3 },
  'guard/admit': { keys: 6 },
  'guard/due-check': { keys: 2 },
  'guard/stage': { keys: 2 },
  'guard/window-batch-append': { keys: 4 },
  'guard/write-held': { keys: 5 },
  'guard/wipe-admit': { keys: 1 },
  'guard/approve': { keys: 2, uses: ['guard/release'] },
  'guard/reject': { keys: 2, uses: ['guard/release'] },
  'guard/expire': { keys: 2, uses: ['guard/release'] },
  'evidence/update': { keys: 4 },
  'intake/attach-callback': { keys: 2 },
  'tenants/turn': { keys: 1 },
} as const satisfies Record<string, ScriptSpec>;

/** `<concept>/<file name without .lua>`. */
export type ScriptName = keyof typeof SCRIPTS;

export const SCRIPT_NAMES = Object.keys(SCRIPTS) as ScriptName[];

/** The library files scripts include (not runnable on their own). */
export const LIBRARY_NAMES = [...new Set(Object.values(SCRIPTS).flatMap((s: ScriptSpec) => s.uses ?? []))];

export class LuaScriptMissingError extends Error {
  override readonly name = 'LuaScriptMissingError';
}

const here = dirname(fileURLToPath(import.meta.url));
// tsc does not copy .lua files (`npm run build` does): from dist/lua fall back to the sources of
// the same checkout.
const CANDIDATE_DIRS = [here, join(here, '..', '..', 'src', 'lua')];

function readFile(name: string): string {
  for (const dir of CANDIDATE_DIRS) {
    const file = join(dir, `${name}.lua`);
    if (existsSync(file)) return readFileSync(file, 'utf8');
  }
  throw new LuaScriptMissingError(
    `Lua script ${name}.lua not found in ${CANDIDATE_DIRS.join(' or ')} (ship src/lua with dist)`,
  );
}

function load(): Map<ScriptName, string> {
  const files = new Map<string, string>();
  const file = (name: string) => {
    const text = files.get(name) ?? readFile(name);
    files.set(name, text);
    return text;
  };
  const sources = new Map<ScriptName, string>();
  for (const [name, spec] of Object.entries(SCRIPTS) as [ScriptName, ScriptSpec][]) {
    sources.set(name, [...(spec.uses ?? []).map(file), file(name)].join('\n'));
  }
  return sources;
}

const SOURCES = load();

/** The full source of a script as Redis runs it (libraries included). */
export function scriptSource(name: ScriptName): string {
  return SOURCES.get(name) as string;
}

const registered = new WeakMap<RedisClient, Set<ScriptName>>();

function commandName(name: ScriptName): string {
  return `offboard_${name.replace(/[^a-z0-9]/gi, '_')}`;
}

/** Runs a script by name; registers it on this client the first time. Returns the raw reply. */
export async function runScript(
  redis: RedisClient,
  name: ScriptName,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  const spec: ScriptSpec = SCRIPTS[name];
  if (keys.length !== spec.keys) throw new RangeError(`${name}.lua takes ${spec.keys} keys`);
  let set = registered.get(redis);
  if (!set) {
    set = new Set();
    registered.set(redis, set);
  }
  const command = commandName(name);
  if (!set.has(name)) {
    redis.defineCommand(command, { lua: scriptSource(name), numberOfKeys: spec.keys });
    set.add(name);
  }
  const fn = (redis as unknown as Record<string, (...a: string[]) => Promise<unknown>>)[command];
  if (!fn) throw new LuaScriptMissingError(`script ${name} could not be registered`);
  // One array, not spread arguments: ioredis flattens it, and a 100,000-user admission passes 200,000
  // arguments, past what a JavaScript call can take on its stack.
  const argv: string[] = [...keys];
  for (const a of args) argv.push(String(a));
  return (fn as unknown as (a: string[]) => Promise<unknown>).call(redis, argv);
}
