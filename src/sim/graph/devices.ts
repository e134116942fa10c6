// The simulator's Intune managed devices (served by devices-route.ts): every user's devices, its own
// read limiter and counters (Intune counts device reads apart from writes), the device controls, and
// what a retire does to the devices: after a 204 they go retirePending and disappear after
// `retireDelayMs`, except those that never check in (stay retirePending) or fail (retireFailed). Users
// get 0–3 devices derived from a hash of the user (device-fixtures.ts), or what a control sets.
import { z } from 'zod';
import { enumMembers, propertiesOf } from '../../graph/contract/load.js';
import type { AppLimit, ScriptStep } from '../limits.js';
import { stableGuid } from '../tokens.js';
import { AutopilotBook, autopilotIdOf, isCompanyWindows } from './autopilot.js';
import { DeviceActionBook } from './device-actions.js';
import { fixtureDevices } from './device-actions-fixtures.js';
import { defaultDevices, iso, makeDevice, type SimDevice } from './device-fixtures.js';
import { Limiter } from './limiter.js';
import { AnnouncedWindows } from './windows.js';

export { defaultDevices, makeDevice, type SimDevice } from './device-fixtures.js';

export const DEVICE_BEHAVIOURS = ['normal', 'neverChecksIn', 'fails'] as const;
export type DeviceBehaviour = (typeof DEVICE_BEHAVIOURS)[number];

/** A device as a control sets it: v1.0 properties, every one optional (the id is derived when absent). */
export type SimDeviceInput = Partial<SimDevice> & { behaviour?: DeviceBehaviour };

export interface ReadStats {
  calls: number;
  byStatus: Record<string, number>;
  byUser: Record<string, number>;
  throttled: number;
  /** Reads that arrived inside an announced read Retry-After window (after the grace period). */
  insideRetryAfterWindow: number;
}

/** What `/_sim/devices?user=` shows: the devices as a read would list them now, and the retire time. */
export interface DeviceView {
  user: string;
  retiredAt: string | null;
  devices: SimDevice[];
}

/**
 * A control's device: any v1.0 `managedDevice` property of a plain type (strings, booleans, numbers,
 * enums by their members), nothing else. The fields come from Microsoft's metadata, never from the
 * product's $select: a beta name such as `ownerType` is refused here as Graph would refuse it.
 */
function deviceSchema() {
  const fields: Record<string, z.ZodType> = {};
  for (const [name, type] of Object.entries(propertiesOf('managedDevice') ?? {})) {
    const members = enumMembers(type);
    const plain =
      type === 'Edm.String' || type === 'Edm.DateTimeOffset'
        ? z.string().max(256)
        : type === 'Edm.Boolean'
          ? z.boolean()
          : type === 'Edm.Int32' || type === 'Edm.Int64'
            ? z.number().int()
            : members
              ? z.enum(members as [string, ...string[]])
              : undefined;
    if (plain) fields[name] = plain.nullable().optional();
  }
  return z.strictObject({
    ...fields,
    id: z.string().min(1).max(64).optional(),
    behaviour: z.enum(DEVICE_BEHAVIOURS).optional(),
  });
}
const deviceInput = deviceSchema();
const userKey = z.string().min(1).max(256);

/** The device controls (part of the simulator's control schema, control.ts). */
export const deviceControlShape = {
  /** Per user: a device count, an explicit list, or null for the hash-derived default. */
  devices: z
    .record(userKey, z.union([z.number().int().min(0).max(1000), z.array(deviceInput).max(1000), z.null()]))
    .optional(),
  /** Per user or per device id: how devices react to a retire; null = back to the default. */
  deviceBehaviour: z.record(userKey, z.enum(DEVICE_BEHAVIOURS).nullable()).optional(),
  retireDelayMs: z.number().int().min(0).max(86_400_000).optional(),
  devicesPageSize: z.number().int().min(1).max(999).optional(),
  /** Fields the device read refuses in `$select` (400, as for an unknown property); null = accept all. */
  refuseSelect: z.array(z.string().min(1).max(64)).max(50).nullable().optional(),
  readLimit: z
    .strictObject({
      limit: z.number().int().min(1),
      windowMs: z.number().int().min(1),
      retryAfter: z.enum(['seconds', 'fractional', 'http-date', 'none']).optional(),
    })
    .nullable()
    .optional(),
  /** Answers for the device reads of specific users, consumed in order, then the normal answer. */
  readScript: z
    .record(
      userKey,
      z
        .array(
          z.union([
            z.number().int().min(100).max(599),
            z.strictObject({
              status: z.number().int().min(100).max(599),
              retryAfter: z.string().max(64).optional(),
              delayMs: z.number().int().min(0).max(600_000).optional(),
            }),
          ]),
        )
        .max(10_000),
    )
    .optional(),
};

/** The prefix rule (like behaviour.ts): `nocheckin-` devices never check in, `retirefail-` ones fail. */
function behaviourByPrefix(user: string): DeviceBehaviour {
  const local = user.includes('@') ? user.slice(0, user.lastIndexOf('@')) : '';
  if (local.startsWith('nocheckin-')) return 'neverChecksIn';
  if (local.startsWith('retirefail-')) return 'fails';
  return 'normal';
}

/** Every device of the simulated tenant and what retires did to them; the read limiter and counters. */
export class DeviceBook {
  private explicit = new Map<string, (SimDevice & { behaviour?: DeviceBehaviour })[]>();
  private behaviours = new Map<string, DeviceBehaviour>();
  private retired = new Map<string, number>();
  private scripts = new Map<string, ScriptStep[]>();
  private readStats = emptyStats();
  /** deviceId (lower-case) → its user, for every device a list or a control has shown. */
  private readonly owners = new Map<string, string>();
  /** Serial number → device id of the company Windows devices among them (their Autopilot identities). */
  private readonly windowsSerials = new Map<string, string>();
  /** Implied Autopilot identity id → serial number (autopilot.ts derives the id from the serial). */
  private readonly autopilotIds = new Map<string, string>();
  /** Per-device retire / wipe / delete (device-actions.ts) and Autopilot identities (autopilot.ts). */
  readonly actions = new DeviceActionBook();
  readonly autopilot = new AutopilotBook();
  readonly limiter = new Limiter();
  readonly windows = new AnnouncedWindows();
  retireDelayMs: number;
  pageSize: number;
  readLimit: AppLimit | null;
  /** Fields a `$select` may not name (answered 400 like an unknown property): a Graph that refuses the read. */
  refusedFields = new Set<string>();

  constructor(opts: { retireDelayMs?: number; pageSize?: number; readLimit?: AppLimit | null } = {}) {
    this.retireDelayMs = opts.retireDelayMs ?? 2000;
    this.pageSize = opts.pageSize ?? 100;
    this.readLimit = opts.readLimit ?? null;
  }

  /** Forgets explicit devices, behaviours, retires, scripts, limiter windows and counters. Settings stay. */
  reset(): void {
    this.explicit.clear();
    this.behaviours.clear();
    this.retired.clear();
    this.scripts.clear();
    this.owners.clear();
    this.windowsSerials.clear();
    this.autopilotIds.clear();
    this.actions.reset();
    this.autopilot.reset();
    this.readStats = emptyStats();
    this.limiter.reset();
    this.windows.reset();
  }

  /** Sets a user's devices: a count (derived devices), a list, or null (the hash default). Clears its retire. */
  setDevices(user: string, spec: number | SimDeviceInput[] | null): void {
    const key = user.toLowerCase();
    this.retired.delete(key);
    if (spec === null) {
      this.explicit.delete(key);
      return;
    }
    const list =
      typeof spec === 'number'
        ? Array.from({ length: spec }, (_, i) => makeDevice(key, `n${i}`))
        : spec.map(
            (d, i) =>
              ({
                ...makeDevice(key, `l${i}`),
                ...d,
                id: d.id ?? stableGuid(`device:${key}:l${i}`),
              }) as SimDevice & { behaviour?: DeviceBehaviour },
          );
    this.explicit.set(key, list);
    this.register(key, list);
  }

  private register(user: string, list: readonly SimDevice[]): void {
    for (const d of list) {
      this.owners.set(d.id.toLowerCase(), user);
      const serial = String(d.serialNumber);
      if (isCompanyWindows(d) && this.windowsSerials.get(serial) !== d.id.toLowerCase()) {
        this.windowsSerials.set(serial, d.id.toLowerCase());
        this.autopilotIds.set(autopilotIdOf(serial), serial);
      }
    }
  }

  setBehaviour(key: string, behaviour: DeviceBehaviour | null): void {
    if (behaviour === null) this.behaviours.delete(key.toLowerCase());
    else this.behaviours.set(key.toLowerCase(), behaviour);
  }

  script(scripts: Record<string, ScriptStep[]>): void {
    for (const [user, steps] of Object.entries(scripts)) {
      if (steps.length === 0) this.scripts.delete(user.toLowerCase());
      else this.scripts.set(user.toLowerCase(), [...steps]);
    }
  }

  nextScripted(user: string): ScriptStep | undefined {
    return this.scripts.get(user)?.shift();
  }

  /** A retire POST was answered 2xx: the user's devices start retiring (the first retire counts). */
  retire(user: string, now = Date.now()): void {
    const key = user.toLowerCase();
    if (!this.retired.has(key)) this.retired.set(key, now);
  }

  /** The devices a read lists now, with the managementState a retire (of all, or of one) gave them. */
  list(user: string, now = Date.now()): SimDevice[] {
    const key = user.toLowerCase();
    const out: SimDevice[] = [];
    for (const device of this.base(key, now)) {
      const { behaviour: _own, ...d } = device as SimDevice & { behaviour?: DeviceBehaviour };
      const s = this.actions.stateOf(
        d.id,
        this.behaviourOf(key, device),
        this.retireDelayMs,
        now,
        this.retired.get(key),
      );
      if (!s.listed) continue;
      out.push(s.managementState ? { ...d, managementState: s.managementState } : d);
    }
    return out;
  }

  /** A user's devices as Intune has them (before any action), registering their owner. */
  base(key: string, now: number): (SimDevice & { behaviour?: DeviceBehaviour })[] {
    const list = this.explicit.get(key) ?? fixtureDevices(key, now) ?? defaultDevices(key, now);
    this.register(key, list);
    return list;
  }

  /** How a device reacts to an action: its own behaviour, then its user's, then the user's prefix. */
  behaviourOf(user: string, device: SimDevice & { behaviour?: DeviceBehaviour }): DeviceBehaviour {
    return (
      this.behaviours.get(device.id.toLowerCase()) ??
      device.behaviour ??
      this.behaviours.get(user) ??
      behaviourByPrefix(user)
    );
  }

  /** When the user's removeAllDevicesFromManagement was accepted, if it was. */
  retiredAt(user: string): number | undefined {
    return this.retired.get(user.toLowerCase());
  }

  /** The user of a device a list or control has shown, or undefined. */
  ownerOf(deviceId: string): string | undefined {
    return this.owners.get(deviceId.toLowerCase());
  }

  /** Device ids of the company Windows devices shown so far whose serial contains `needle` (lower-case). */
  windowsDevicesBySerial(needle?: string): string[] {
    const out: string[] = [];
    for (const [serial, id] of this.windowsSerials) {
      if (needle === undefined || serial.toLowerCase().includes(needle)) out.push(id);
    }
    return out;
  }

  /** The serial number behind an implied Autopilot identity id, when a device with it was shown. */
  serialOfAutopilotId(id: string): string | undefined {
    return this.autopilotIds.get(id.toLowerCase());
  }

  view(user: string, now = Date.now()): DeviceView {
    const at = this.retired.get(user.toLowerCase());
    return {
      user: user.toLowerCase(),
      retiredAt: at === undefined ? null : iso(at),
      devices: this.list(user, now),
    };
  }

  counted(user: string, status: number): void {
    const s = this.readStats;
    s.calls++;
    s.byStatus[String(status)] = (s.byStatus[String(status)] ?? 0) + 1;
    s.byUser[user] = (s.byUser[user] ?? 0) + 1;
    if (status === 429) s.throttled++;
  }

  violation(): void {
    this.readStats.insideRetryAfterWindow++;
  }

  stats(): ReadStats {
    return structuredClone(this.readStats);
  }
}

function emptyStats(): ReadStats {
  return { calls: 0, byStatus: {}, byUser: {}, throttled: 0, insideRetryAfterWindow: 0 };
}
