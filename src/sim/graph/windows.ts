// Retry-After windows the fake has announced. A client that honours them never sends a request
// inside one; requests already on the wire when it was announced get a short grace.

export type WindowVerdict =
  | { kind: 'none' }
  | { kind: 'in-flight' }
  | { kind: 'violation'; remainingMs: number };

interface Announced {
  at: number;
  end: number;
}

export class AnnouncedWindows {
  private windows: Announced[] = [];

  reset(): void {
    this.windows = [];
  }

  announce(at: number, end: number): void {
    if (end > at) this.windows.push({ at, end });
  }

  classify(now: number, graceMs: number): WindowVerdict {
    this.windows = this.windows.filter((w) => w.end > now);
    let inFlight = false;
    let remaining = 0;
    for (const w of this.windows) {
      if (now < w.at) continue;
      if (now <= w.at + graceMs) inFlight = true;
      else remaining = Math.max(remaining, w.end - now);
    }
    if (remaining > 0) return { kind: 'violation', remainingMs: remaining };
    return inFlight ? { kind: 'in-flight' } : { kind: 'none' };
  }
}

/** The header value for a wait in the given format, and when a client reading it may call again. */
export function formatRetryAfter(
  waitMs: number,
  format: 'seconds' | 'fractional' | 'http-date' | 'none',
  now: number,
): { header?: string; until?: number } {
  const ms = Math.max(0, Math.ceil(waitMs));
  switch (format) {
    case 'none':
      return {};
    case 'fractional':
      return { header: (ms / 1000).toFixed(3), until: now + ms };
    case 'http-date': {
      // HTTP-dates have whole seconds: round up so the client never comes back early.
      const until = Math.ceil((now + ms) / 1000) * 1000;
      return { header: new Date(until).toUTCString(), until };
    }
    default: {
      const seconds = Math.ceil(ms / 1000);
      return { header: String(seconds), until: now + seconds * 1000 };
    }
  }
}
