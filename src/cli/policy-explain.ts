// `offboard policy explain`: what a device policy would do to one leaver's devices, decided from the
// real inventory. Read-only: one paced managedDevices read (every page) through the one Graph call
// path on the READ budget, the same $select as the worker's inventory; no write is ever sent. The
// look is audited as `planned` (like the console's Check and `import --plan`), naming the user.
import type { Config } from '../config/load.js';
import { planDevices, profileName } from '../device-policy/plan.js';
import type { DevicePolicy } from '../device-policy/types.js';
import { exchangeStatus, graphContext, graphReadAll } from '../graph/call.js';
import { managedDevicesPath, toDevices } from '../graph/devices.js';
import type { DevicePlan, ManagedDevice, TokenProvider } from '../interfaces.js';
import { createReadPacer } from '../pacing/read-pacer.js';
import { appendAudit } from '../records/audit.js';
import { incrementMetrics } from '../records/metrics.js';
import type { RedisClient } from '../redis/connection.js';

export interface ExplainDeps {
  config: Config;
  redis: RedisClient;
  tokenProvider: Pick<TokenProvider, 'getToken'>;
  actor: string;
  signal?: AbortSignal;
}

/** One device with what the policy decided for it. */
export interface ExplainedDevice extends DevicePlan {
  deviceEnrollmentType: string | null;
  isSupervised: boolean | null;
}

export interface Explanation {
  user: string;
  profile: string;
  /** The policy file. */
  source: string | null;
  readAt: string;
  requestIds: string[];
  devices: ExplainedDevice[];
  /** Devices per action over all devices (wipe: 2, retire: 1…). */
  actions: Record<string, number>;
}

/** Reads `user`'s devices and plans them under `profile` (undefined: the policy's default). */
export async function explainUser(
  deps: ExplainDeps,
  policy: DevicePolicy,
  user: string,
  profile: string | undefined,
): Promise<Explanation> {
  const { config, redis } = deps;
  const prefix = config.redis.prefix;
  // Checked before any read: an unknown profile costs no read slot.
  const name = profileName(policy, profile);
  // holdKey null: like preflight, a look must work while the circuit holds the queue (that is when
  // an operator checks what a resume would do); the Retry-After gate still applies.
  const pacer = createReadPacer({ redis, prefix, config, tuning: { holdKey: null } });
  const readAt = new Date().toISOString();
  const list = await graphReadAll(graphContext(config, deps.tokenProvider, pacer), {
    path: managedDevicesPath(user),
    subject: user,
    ...(deps.signal ? { wait: deps.signal, call: deps.signal } : {}),
    onExchange: (e) => {
      incrementMetrics(redis, prefix, { [`read_calls:${exchangeStatus(e)}`]: 1 }).catch(() => undefined);
    },
  });
  const inventory: ManagedDevice[] = toDevices(list.value);
  const plans = planDevices(policy, name, inventory);
  const devices = plans.map((p, i) => ({
    ...p,
    deviceEnrollmentType: inventory[i]?.deviceEnrollmentType ?? null,
    isSupervised: inventory[i]?.isSupervised ?? null,
  }));
  const actions: Record<string, number> = {};
  for (const d of devices) for (const s of d.actions) actions[s.action] = (actions[s.action] ?? 0) + 1;
  await appendAudit(
    { redis, prefix, config },
    {
      type: 'planned',
      actor: deps.actor,
      at: readAt,
      user,
      details: { source: 'policy explain', profile: name, devices: devices.length, actions },
    },
  );
  return {
    user,
    profile: name,
    source: policy.source ?? null,
    readAt,
    requestIds: list.requestIds,
    devices,
    actions,
  };
}
