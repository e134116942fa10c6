// Loads the worker's Lua scripts and registers them on a client (ioredis defineCommand: EVALSHA with
// a transparent EVAL fallback after a SCRIPT FLUSH or failover). Every key a script touches is passed
// in KEYS and lives under the queue prefix, so one `{offboard}` hash tag keeps them in one Cluster slot.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RedisClient } from '../../redis/connection.js';

export type ScriptName = 'acquire' | 'throttled' | 'health' | 'forbidden';

const NUMBER_OF_KEYS: Record<ScriptName, number> = { acquire: 6, throttled: 2, health: 5, forbidden: 3 };

const here = dirname(fileURLToPath(import.meta.url));
// tsc does not copy .lua files: from dist/worker/lua fall back to the sources in the same checkout.
const CANDIDATE_DIRS = [here, join(here, '..', '..', '..', 'src', 'worker', 'lua')];

const sources = new Map<ScriptName, string>();

export class ScriptMissingError extends Error {
  override readonly name = 'ScriptMissingError';
}

function source(name: ScriptName): string {
  const cached = sources.get(name);
  if (cached) return cached;
  for (const dir of CANDIDATE_DIRS) {
    const file = join(dir, `${name}.lua`);
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8');
      sources.set(name, text);
      return text;
    }
  }
  throw new ScriptMissingError(
    `Lua script ${name}.lua not found in ${CANDIDATE_DIRS.join(' or ')} (ship src/worker/lua with dist)`,
  );
}

const registered = new WeakMap<RedisClient, Set<ScriptName>>();

/** Runs a script by name; registers it on this client the first time. Returns the raw reply. */
export async function runScript(
  redis: RedisClient,
  name: ScriptName,
  keys: string[],
  args: (string | number)[],
): Promise<unknown> {
  if (keys.length !== NUMBER_OF_KEYS[name])
    throw new RangeError(`${name}.lua takes ${NUMBER_OF_KEYS[name]} keys`);
  let set = registered.get(redis);
  if (!set) {
    set = new Set();
    registered.set(redis, set);
  }
  const command = `offboard_${name}`;
  if (!set.has(name)) {
    redis.defineCommand(command, { lua: source(name), numberOfKeys: NUMBER_OF_KEYS[name] });
    set.add(name);
  }
  const fn = (redis as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[command];
  if (!fn) throw new ScriptMissingError(`script ${name} could not be registered`);
  return fn.call(redis, ...keys, ...args.map(String));
}

/** Loads every script now so a missing file fails at start-up, not at the first Graph call. */
export function preloadScripts(): void {
  for (const name of Object.keys(NUMBER_OF_KEYS) as ScriptName[]) source(name);
}
