// Counters the simulator exposes (in-process and at GET /_sim/stats). Tests and the benchmark read them.
import type { CallLogEntry, GraphLogEntry, SimStats } from './types.js';

export const LOG_CAP = 200_000;

export class StatsCollector {
  private graph = emptyGraph();
  private token = emptyToken();
  private byMethod: Record<string, number> = {};
  private calls: CallLogEntry[] = [];
  private inFlight = 0;

  reset(): void {
    this.graph = emptyGraph();
    this.calls = [];
    this.token = emptyToken();
    this.byMethod = {};
    // In-flight calls keep running across a reset; maxConcurrent restarts from them.
    this.graph.maxConcurrent = this.inFlight;
  }

  graphArrived(user: string, now: number): void {
    this.graph.calls++;
    bump(this.graph.byUser, user);
    this.graph.firstCallAt ??= now;
    this.graph.lastCallAt = now;
    this.inFlight++;
    if (this.inFlight > this.graph.maxConcurrent) this.graph.maxConcurrent = this.inFlight;
  }

  /** `status` 0 = never answered (hang). */
  graphFinished(entry: GraphLogEntry): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    const key = entry.status === 0 ? 'hang' : String(entry.status);
    bump(this.graph.byStatus, key);
    if (entry.status >= 200 && entry.status < 300) bump(this.graph.successByUser, entry.user);
    if (entry.status === 429) this.graph.throttled++;
    if (this.graph.log.length < LOG_CAP) this.graph.log.push(entry);
  }

  /** Any Graph request (reads, actions, Lifecycle Workflows; not /_sim): counted per HTTP method. */
  request(method: string): void {
    bump(this.byMethod, method.toUpperCase());
  }

  /**
   * One Intune write (any) or per-device read, logged in arrival order; the caller fills in `status`
   * on the returned entry when the answer is sent (0 until then, or when never answered).
   */
  call(method: string, path: string, write: boolean, at: number): CallLogEntry {
    const entry: CallLogEntry = { method: method.toUpperCase(), path, at, status: 0, write };
    if (this.calls.length < LOG_CAP) this.calls.push(entry);
    return entry;
  }

  windowViolation(): void {
    this.graph.insideRetryAfterWindow++;
  }

  inFlightAtAnnouncement(): void {
    this.graph.inFlightAtAnnouncement++;
  }

  tokenRequest(grant: string): void {
    this.token.requests++;
    bump(this.token.byGrant, grant || 'none');
  }

  tokenFailure(): void {
    this.token.failures++;
  }

  tokenIssued(): void {
    this.token.issued++;
  }

  /** A copy; `includeLog: false` skips the (up to 200k entry) call log. */
  snapshot(includeLog = true): SimStats {
    const { log, ...graph } = this.graph;
    const copy = structuredClone({
      graph: { ...graph, log: [] as GraphLogEntry[] },
      token: this.token,
      requests: { byMethod: this.byMethod },
      calls: [] as CallLogEntry[],
    });
    if (includeLog) {
      copy.graph.log = log.map((e) => ({ ...e }));
      copy.calls = this.calls.map((e) => ({ ...e }));
    }
    return copy;
  }
}

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

function emptyGraph(): SimStats['graph'] {
  return {
    calls: 0,
    byStatus: {},
    byUser: {},
    successByUser: {},
    throttled: 0,
    insideRetryAfterWindow: 0,
    inFlightAtAnnouncement: 0,
    maxConcurrent: 0,
    firstCallAt: null,
    lastCallAt: null,
    log: [],
  };
}

function emptyToken(): SimStats['token'] {
  return { requests: 0, byGrant: {}, failures: 0, issued: 0 };
}
