// The simulator's Windows Autopilot registrations (v1.0 `windowsAutopilotDeviceIdentity`), served by
// device-actions-read.ts (list by serial number) and device-actions-route.ts (DELETE). Every
// company-owned Windows device the DeviceBook knows has one, derived from its serial number (an OEM
// registers company hardware), unless the control turns that off (`autopilot.implied: false`); the
// control adds, changes or removes identities explicitly. A deleted identity stays gone.
//
// Deleting the Intune record first is the documented order (Intune docs, "Deregister from Autopilot
// using Intune"), but what Graph answers a DELETE of an identity whose managed device still exists
// is not documented: the simulator accepts it (204) rather than invent a refusal.
import { z } from 'zod';
import { stableGuid } from '../tokens.js';
import type { SimDevice } from './device-fixtures.js';

/** A simulated `microsoft.graph.windowsAutopilotDeviceIdentity`: v1.0 property name → JSON value. */
export type SimAutopilotIdentity = { id: string; serialNumber: string } & Record<
  string,
  string | null | undefined
>;

/** Graph's managedDeviceId of an Autopilot identity that has no Intune record (all zeros). */
export const NO_MANAGED_DEVICE = '00000000-0000-0000-0000-000000000000';

const identityInput = z.strictObject({
  id: z.string().min(1).max(64).optional(),
  serialNumber: z.string().min(1).max(128),
  managedDeviceId: z.string().max(64).nullable().optional(),
  azureActiveDirectoryDeviceId: z.string().max(64).nullable().optional(),
  displayName: z.string().max(256).nullable().optional(),
  groupTag: z.string().max(256).nullable().optional(),
  manufacturer: z.string().max(256).nullable().optional(),
  model: z.string().max(256).nullable().optional(),
  userPrincipalName: z.string().max(256).nullable().optional(),
  enrollmentState: z.enum(['unknown', 'enrolled', 'pendingReset', 'failed', 'notContacted']).optional(),
});

/** Control `autopilot`: identities from company Windows devices on/off, add or change, remove, clear. */
export const autopilotControlSchema = z.strictObject({
  implied: z.boolean().optional(),
  clear: z.literal(true).optional(),
  upsert: z.array(identityInput).max(10_000).optional(),
  /** Identity ids or serial numbers. */
  remove: z.array(z.string().min(1).max(128)).max(10_000).optional(),
});
export type AutopilotControl = z.infer<typeof autopilotControlSchema>;

/** The id of the identity an OEM registration gives the device with this serial number. */
export function autopilotIdOf(serial: string): string {
  return stableGuid(`autopilot:${serial}`);
}

/** The identity an OEM registration gives a company-owned Windows device. */
export function impliedIdentity(device: SimDevice, deviceExists: boolean): SimAutopilotIdentity {
  const serial = String(device.serialNumber);
  return {
    id: autopilotIdOf(serial),
    serialNumber: serial,
    groupTag: '',
    purchaseOrderIdentifier: '',
    productKey: '',
    manufacturer: (device.manufacturer as string | null) ?? null,
    model: (device.model as string | null) ?? null,
    displayName: '',
    resourceName: '',
    skuNumber: '',
    systemFamily: '',
    addressableUserName: '',
    userPrincipalName: (device.userPrincipalName as string | null) ?? '',
    azureActiveDirectoryDeviceId: (device.azureADDeviceId as string | null) ?? null,
    managedDeviceId: deviceExists ? device.id : NO_MANAGED_DEVICE,
    enrollmentState: deviceExists ? 'enrolled' : 'notContacted',
    lastContactedDateTime: (device.lastSyncDateTime as string | null) ?? null,
  };
}

export function isCompanyWindows(d: SimDevice): boolean {
  return (
    String(d.operatingSystem ?? '').toLowerCase() === 'windows' &&
    d.managedDeviceOwnerType === 'company' &&
    typeof d.serialNumber === 'string' &&
    d.serialNumber !== ''
  );
}

export class AutopilotBook {
  private readonly explicit = new Map<string, SimAutopilotIdentity>();
  private readonly deleted = new Set<string>();
  /** Company-owned Windows devices have an identity of their own (default true). */
  implied = true;

  reset(): void {
    this.explicit.clear();
    this.deleted.clear();
    this.implied = true;
  }

  apply(c: AutopilotControl): void {
    if (c.implied !== undefined) this.implied = c.implied;
    if (c.clear) {
      this.explicit.clear();
      this.deleted.clear();
    }
    for (const key of c.remove ?? []) {
      const k = key.toLowerCase();
      for (const [id, ident] of this.explicit) {
        if (id === k || ident.serialNumber.toLowerCase() === k) this.explicit.delete(id);
      }
      this.deleted.add(k);
    }
    for (const u of c.upsert ?? []) {
      const id = (u.id ?? stableGuid(`autopilot:${u.serialNumber}`)).toLowerCase();
      this.deleted.delete(id);
      this.deleted.delete(u.serialNumber.toLowerCase());
      this.explicit.set(id, {
        groupTag: '',
        displayName: '',
        enrollmentState: 'enrolled',
        managedDeviceId: NO_MANAGED_DEVICE,
        ...this.explicit.get(id),
        ...u,
        id,
      } as SimAutopilotIdentity);
    }
  }

  /** Every identity now: explicit ones, then those of the known company Windows devices (by serial). */
  all(known: { device: SimDevice; exists: boolean }[]): SimAutopilotIdentity[] {
    const out = new Map<string, SimAutopilotIdentity>();
    for (const [id, ident] of this.explicit) out.set(id, ident);
    if (this.implied) {
      for (const { device, exists } of known) {
        if (!isCompanyWindows(device)) continue;
        const ident = impliedIdentity(device, exists);
        if (!out.has(ident.id)) out.set(ident.id, ident);
      }
    }
    return [...out.values()].filter(
      (i) => !this.deleted.has(i.id.toLowerCase()) && !this.deleted.has(i.serialNumber.toLowerCase()),
    );
  }

  /** Removes an identity (the caller found it among `all`). */
  delete(id: string): true {
    const key = id.toLowerCase();
    this.explicit.delete(key);
    this.deleted.add(key);
    return true;
  }
}
