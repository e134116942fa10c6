// What the fake answers for a given user once the request got past auth, outage and throttling:
// a scripted step if one is queued, else the behaviour implied by the UPN's local-part prefix.
import type { ScriptStep } from '../limits.js';

export interface Step {
  status: number;
  retryAfter?: string;
  hang?: boolean;
  delayMs?: number;
}

export class UserBehaviour {
  private readonly scripts = new Map<string, ScriptStep[]>();
  private readonly seen = new Map<string, number>();

  reset(): void {
    this.scripts.clear();
    this.seen.clear();
  }

  /** Replaces the queued answers for each user given. */
  script(scripts: Record<string, ScriptStep[]>): void {
    for (const [user, steps] of Object.entries(scripts)) {
      const key = user.toLowerCase();
      if (steps.length === 0) this.scripts.delete(key);
      else this.scripts.set(key, [...steps]);
    }
  }

  next(user: string): Step {
    const scripted = this.scripts.get(user)?.shift();
    if (scripted !== undefined) return typeof scripted === 'number' ? { status: scripted } : { ...scripted };
    const n = (this.seen.get(user) ?? 0) + 1;
    this.seen.set(user, n);
    return byPrefix(user, n);
  }
}

/** `n` is the 1-based count of calls for this user that reached this stage. */
function byPrefix(user: string, n: number): Step {
  const local = user.includes('@') ? user.slice(0, user.lastIndexOf('@')) : '';
  if (local.startsWith('notfound-')) return { status: 404 };
  if (local.startsWith('forbidden-')) return { status: 403 };
  if (local.startsWith('badrequest-')) return { status: 400 };
  if (local.startsWith('flaky-') && n <= 2) return { status: 503 };
  if (local.startsWith('throttle-') && n === 1) return { status: 429, retryAfter: '1' };
  if (local.startsWith('hang-') && n === 1) return { status: 204, hang: true };
  return { status: 204 };
}
