// Pending device-code sign-ins. A code is approved by the (simulated) user after a delay, or
// explicitly through the control endpoint; declined or expired codes fail like Entra's do.
import { randomBytes } from 'node:crypto';

export type DeviceCodeState = 'pending' | 'approved' | 'denied' | 'redeemed';

export interface DeviceCodeEntry {
  deviceCode: string;
  userCode: string;
  clientId: string;
  scopes: string[];
  createdAt: number;
  expiresAt: number;
  state: DeviceCodeState;
}

const USER_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

export class DeviceCodeStore {
  private readonly byDeviceCode = new Map<string, DeviceCodeEntry>();

  create(clientId: string, scopes: string[], lifetimeSec: number, now = Date.now()): DeviceCodeEntry {
    this.expire(now);
    const bytes = randomBytes(9);
    const userCode = Array.from(bytes, (b) => USER_CODE_ALPHABET[b % USER_CODE_ALPHABET.length]).join('');
    const entry: DeviceCodeEntry = {
      deviceCode: randomBytes(48).toString('base64url'),
      userCode,
      clientId,
      scopes,
      createdAt: now,
      expiresAt: now + lifetimeSec * 1000,
      state: 'pending',
    };
    this.byDeviceCode.set(entry.deviceCode, entry);
    return entry;
  }

  get(deviceCode: string): DeviceCodeEntry | undefined {
    return this.byDeviceCode.get(deviceCode);
  }

  /** Sets the state of one pending code (by user code) or of all (`*`). Returns how many changed. */
  decide(userCode: string, state: 'approved' | 'denied'): number {
    let changed = 0;
    for (const entry of this.byDeviceCode.values()) {
      if (entry.state !== 'pending') continue;
      if (userCode !== '*' && entry.userCode !== userCode.toUpperCase()) continue;
      entry.state = state;
      changed++;
    }
    return changed;
  }

  pending(): DeviceCodeEntry[] {
    return [...this.byDeviceCode.values()].filter((e) => e.state === 'pending');
  }

  private expire(now: number): void {
    for (const [code, entry] of this.byDeviceCode) {
      if (entry.expiresAt + 60_000 < now) this.byDeviceCode.delete(code);
    }
  }
}
