// The Lua loader (src/lua/scripts.ts): every file under src/lua is a registered script or a library
// one includes, scripts survive a SCRIPT FLUSH (EVALSHA falls back to EVAL), and a wrong number of
// keys is refused before anything reaches Redis.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIBRARY_NAMES, runScript, SCRIPT_NAMES, scriptSource } from '../../src/lua/scripts.js';
import { filesUnder } from '../deploy/files.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let client: Redis;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  client.disconnect();
  await redis.stop();
});

describe('src/lua scripts', () => {
  it('registers every .lua file under src/lua, as a script or as a library a script uses', () => {
    const files = filesUnder('src/lua')
      .filter((f) => f.endsWith('.lua'))
      .map((f) => f.replace(/^src\/lua\//, '').replace(/\.lua$/, ''));
    expect(files.length).toBeGreaterThan(0);
    expect([...SCRIPT_NAMES, ...LIBRARY_NAMES].sort()).toEqual(files.sort());
    // A library is included, never run on its own: its functions appear in the scripts that use it.
    expect(LIBRARY_NAMES).toContain('guard/release');
    expect(scriptSource('guard/approve')).toMatch(/local function release\(/);
    expect(scriptSource('guard/admit')).not.toMatch(/local function release\(/);
  });

  it('runs a script, and again after SCRIPT FLUSH (EVALSHA falls back to EVAL)', async () => {
    const key = `${redis.prefix}:lua-test`;
    expect(await runScript(client, 'api/auth-failure', [key], [60_000])).toBe(1);
    expect(await runScript(client, 'api/auth-failure', [key], [60_000])).toBe(2);
    await client.script('FLUSH');
    expect(await runScript(client, 'api/auth-failure', [key], [60_000])).toBe(3);
    // The first call set the window; later ones did not move it.
    expect(await client.pttl(key)).toBeGreaterThan(50_000);
  });

  it('refuses a call with the wrong number of keys', async () => {
    await expect(runScript(client, 'guard/approve', ['only-one'], [])).rejects.toBeInstanceOf(RangeError);
  });
});
