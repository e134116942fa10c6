// The simulator's user directory: users with `employeeLeaveDateTime`, changed by control `users`
// (move or clear a date, fail one page). GET /v1.0/users and /users/{id}, with the advanced query
// Graph requires, the $filter evaluator and paging, are served by users-route.ts; this file stays
// free of the simulator state so state.ts can hold a SimDirectory without a file circle.
import { z } from 'zod';
import { stableGuid } from '../tokens.js';

export interface SimUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  accountEnabled: boolean;
  /** ISO 8601 UTC, or null when HR has set no leave date. */
  employeeLeaveDateTime: string | null;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const userInput = z.strictObject({
  id: z.string().regex(GUID).optional(),
  userPrincipalName: z.string().min(3).max(113),
  displayName: z.string().max(256).optional(),
  accountEnabled: z.boolean().optional(),
  employeeLeaveDateTime: z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO 8601 date-time')
    .nullable()
    .optional(),
});

/** Control `users`: add or change users (matched by id, else UPN), remove some, or start empty. */
export const usersControlSchema = z.strictObject({
  clear: z.literal(true).optional(),
  upsert: z.array(userInput).max(100_000).optional(),
  remove: z.array(z.string().min(1).max(256)).max(100_000).optional(),
});
export type UsersControl = z.infer<typeof usersControlSchema>;

export class SimDirectory {
  private readonly byId = new Map<string, SimUser>();
  /** 1-based page number that answers 503 while set (a partial read for the sweep's tests). */
  failPage: number | null = null;
  /** Successful and failed reads of /users, for tests and the stats of a demo. */
  reads = { ok: 0, failed: 0 };

  apply(c: UsersControl): void {
    if (c.clear) this.byId.clear();
    for (const key of c.remove ?? []) {
      const found = this.find(key);
      if (found) this.byId.delete(found.id);
    }
    for (const u of c.upsert ?? []) {
      const upn = u.userPrincipalName.toLowerCase();
      const existing = (u.id && this.byId.get(u.id.toLowerCase())) || this.find(upn);
      const id = (u.id ?? existing?.id ?? stableGuid(`user:${upn}`)).toLowerCase();
      if (existing && existing.id !== id) this.byId.delete(existing.id);
      const leave =
        u.employeeLeaveDateTime === undefined
          ? (existing?.employeeLeaveDateTime ?? null)
          : u.employeeLeaveDateTime === null
            ? null
            : canonical(u.employeeLeaveDateTime);
      this.byId.set(id, {
        id,
        userPrincipalName: u.userPrincipalName,
        displayName: u.displayName ?? existing?.displayName ?? upn.split('@')[0] ?? upn,
        accountEnabled: u.accountEnabled ?? existing?.accountEnabled ?? true,
        employeeLeaveDateTime: leave,
      });
    }
  }

  /** A user by object id or UPN (case-insensitive). */
  find(key: string): SimUser | undefined {
    const k = key.toLowerCase();
    return this.byId.get(k) ?? [...this.byId.values()].find((u) => u.userPrincipalName.toLowerCase() === k);
  }

  /** Every user, in a stable order (by id) so paging is repeatable. */
  all(): SimUser[] {
    return [...this.byId.values()].sort((a, b) => a.id.localeCompare(b.id));
  }
}

/** Graph answers leave dates as `2026-12-01T16:00:00Z` (UTC, whole seconds). */
function canonical(iso: string): string {
  return new Date(Date.parse(iso)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
