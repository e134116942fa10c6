// Each worker process writes "I am alive" into one shared hash (field `<host>:<pid>`, value epoch ms)
// so readiness checks and operators can see the fleet without talking to the processes.
import { hostname } from 'node:os';
import { keys } from '../queue/names.js';
import type { RedisClient } from '../redis/connection.js';

export interface HeartbeatOptions {
  redis: RedisClient;
  prefix: string;
  /** Default 10 s. Readers should treat an entry older than ~3 intervals as gone. */
  intervalMs?: number;
}

export interface Heartbeat {
  /** Field name of this process in the hash. */
  id: string;
  /** Stops beating and removes this process's entry. */
  stop(): Promise<void>;
}

export function workerId(): string {
  return `${hostname()}:${process.pid}`;
}

export function startHeartbeat(opts: HeartbeatOptions): Heartbeat {
  const id = workerId();
  const key = keys.workers(opts.prefix);
  const beat = () => {
    // A missed beat during a Redis outage is harmless: the next one repairs it.
    opts.redis.hset(key, id, String(Date.now())).catch(() => undefined);
  };
  beat();
  const timer = setInterval(beat, opts.intervalMs ?? 10_000);
  timer.unref();
  return {
    id,
    async stop() {
      clearInterval(timer);
      await opts.redis.hdel(key, id).catch(() => undefined);
    },
  };
}

/** Live workers: entries seen within `maxAgeMs` (default 30 s). Stale entries are pruned. */
export async function listWorkers(
  redis: RedisClient,
  prefix: string,
  maxAgeMs = 30_000,
): Promise<{ id: string; lastSeen: string }[]> {
  const key = keys.workers(prefix);
  const all = await redis.hgetall(key);
  const now = Date.now();
  const live: { id: string; lastSeen: string }[] = [];
  const stale: string[] = [];
  for (const [id, at] of Object.entries(all)) {
    const ms = Number(at);
    if (Number.isFinite(ms) && now - ms <= maxAgeMs) live.push({ id, lastSeen: new Date(ms).toISOString() });
    else stale.push(id);
  }
  if (stale.length > 0) await redis.hdel(key, ...stale);
  return live.sort((a, b) => a.id.localeCompare(b.id));
}
