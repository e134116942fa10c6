// Redis and the brakes: reachable, `noeviction` (an evicted job is a leaver silently never retired),
// persistence on (a restart must not lose the queue), no queue paused, no circuit open. Read-only:
// queue handles are opened with skipMetasUpdate so not even BullMQ's bookkeeping is written.
import { Queue } from 'bullmq';
import { getCircuit } from '../control/queue-control.js';
import { NOTIFY_QUEUE, RETIRE_QUEUE, SWEEP_QUEUE, VERIFY_QUEUE } from '../queue/names.js';
import type { RedisClient } from '../redis/connection.js';
import type { ScheduleDef } from '../schedule/definition.js';
import type { PreflightCheck } from './types.js';

export interface RedisEnv {
  /** Client for offboard's own keys. */
  redis: RedisClient;
  /** Connection for BullMQ queue handles (may be the same client). */
  queueConnection: RedisClient;
  prefix: string;
}

/** `INFO <section>` as a map of its `key:value` lines. */
async function info(redis: RedisClient, section: string): Promise<Map<string, string>> {
  const text = await redis.info(section);
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return out;
}

export async function checkRedis(env: RedisEnv): Promise<PreflightCheck[]> {
  try {
    await env.redis.ping();
  } catch (err) {
    const detail = `Redis is unreachable: ${(err as Error).message}`.slice(0, 300);
    return [
      { id: 'redis.reachable', status: 'fail', detail, fix: 'check REDIS_URL, the password and the network' },
      {
        id: 'redis.eviction',
        status: 'fail',
        detail: 'not checked: Redis unreachable',
        fix: 'fix Redis first',
      },
      {
        id: 'redis.persistence',
        status: 'fail',
        detail: 'not checked: Redis unreachable',
        fix: 'fix Redis first',
      },
    ];
  }
  const [memory, persistence] = await Promise.all([
    info(env.redis, 'memory'),
    info(env.redis, 'persistence'),
  ]);
  const policy = memory.get('maxmemory_policy') ?? 'unknown';
  const aof = persistence.get('aof_enabled') === '1';
  // RDB snapshots are configuration, not INFO: managed services may refuse CONFIG (then only AOF can be seen).
  const save = aof
    ? ''
    : await env.redis
        .config('GET', 'save')
        .then((r) => String((r as string[])[1] ?? ''))
        .catch(() => null);
  const checks: PreflightCheck[] = [
    { id: 'redis.reachable', status: 'pass', detail: 'Redis answers PING' },
    policy === 'noeviction'
      ? { id: 'redis.eviction', status: 'pass', detail: 'maxmemory-policy noeviction' }
      : {
          id: 'redis.eviction',
          status: 'fail',
          detail: `maxmemory-policy is ${policy}: under memory pressure Redis would delete jobs`,
          fix: 'set maxmemory-policy noeviction (redis.conf, or the managed service\'s "eviction policy")',
        },
  ];
  if (aof) checks.push({ id: 'redis.persistence', status: 'pass', detail: 'AOF is on (appendonly yes)' });
  else if (save)
    checks.push({ id: 'redis.persistence', status: 'pass', detail: `RDB snapshots on (save ${save})` });
  else
    checks.push({
      id: 'redis.persistence',
      status: 'fail',
      detail:
        save === null
          ? 'AOF is off and RDB snapshots cannot be read (CONFIG GET refused)'
          : 'AOF is off and RDB snapshots are off: a restart loses every queued job',
      fix: 'turn on AOF (appendonly yes, appendfsync everysec), or RDB snapshots on the managed service',
    });
  return checks;
}

function readOnlyQueue(env: RedisEnv, name: string): Queue {
  const q = new Queue(name, { connection: env.queueConnection, prefix: env.prefix, skipMetasUpdate: true });
  q.on('error', () => {});
  return q;
}

/** Paused queues (retire, verify, notify, sweep) with the operator's reason for the retire queue. */
export async function checkQueues(env: RedisEnv): Promise<PreflightCheck> {
  const names = [RETIRE_QUEUE, VERIFY_QUEUE, NOTIFY_QUEUE, SWEEP_QUEUE];
  const queues = names.map((n) => readOnlyQueue(env, n));
  try {
    const paused = (await Promise.all(queues.map((q) => q.isPaused()))).flatMap((p, i) =>
      p ? [names[i] as string] : [],
    );
    if (paused.length === 0)
      return { id: 'queues.paused', status: 'pass', detail: `not paused: ${names.join(', ')}` };
    return {
      id: 'queues.paused',
      status: 'fail',
      detail: `paused: ${paused.join(', ')}`,
      fix: 'find out why (offboard status), then `offboard queue resume --as <you>`',
    };
  } finally {
    await Promise.allSettled(queues.map((q) => q.close()));
  }
}

export async function checkCircuit(env: RedisEnv): Promise<PreflightCheck> {
  const circuit = await getCircuit(env);
  if (!circuit.open) return { id: 'circuit', status: 'pass', detail: 'the circuit is closed' };
  return {
    id: 'circuit',
    status: 'fail',
    detail:
      `the circuit is open: ${circuit.code ?? 'unknown'}: ${circuit.reason ?? ''} (since ${circuit.openedAt ?? '?'})`.slice(
        0,
        500,
      ),
    fix: 'fix the cause it names, run preflight again, then `offboard queue resume --as <you>`',
  };
}

/** The Entra sweep schedules' lookaheads (empty: no Entra sweep), read from the schedulers in Redis. */
export async function entraSweeps(env: RedisEnv): Promise<{ name: string; lookaheadMs: number }[]> {
  const queue = readOnlyQueue(env, SWEEP_QUEUE);
  try {
    const schedulers = await queue.getJobSchedulers(0, -1, true);
    const out: { name: string; lookaheadMs: number }[] = [];
    for (const s of schedulers) {
      const source = (s.template?.data as Partial<ScheduleDef> | undefined)?.source;
      if (source?.type === 'entra') out.push({ name: s.key, lookaheadMs: source.lookaheadMs });
    }
    return out;
  } finally {
    await queue.close().catch(() => {});
  }
}
