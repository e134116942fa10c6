// What the demo prints: a one-line live summary, the final per-leaver table and, per leaver, each
// device before the action and what became of it after (the evidence an auditor gets).
import type { EvidenceRecord } from '../interfaces.js';

export interface Row {
  user: string;
  expect: string;
  /** The outcome this leaver must end with (DemoLeaver.outcome). */
  want?: string;
  id: string;
  done: boolean;
  outcome: string;
  status?: number | null;
  calls?: number;
  throttledWaits?: number;
  requestId?: string;
  /** The job's evidence once the worker saved it (inventory, action, verification). */
  evidence?: EvidenceRecord | null;
}

export interface SimFigures {
  graph: {
    calls: number;
    throttled: number;
    insideRetryAfterWindow: number;
    byStatus: Record<string, number>;
  };
  /** Device reads (inventory and verification), on their own budget. */
  reads?: { calls: number; throttled: number };
}

const FINISHED = new Set(['retired', 'no_devices', 'dry_run', 'completed']);

/** Leavers that did not end as the demo expects (or not at all): any fails the demo. */
export function unexpected(rows: Row[]): Row[] {
  return rows.filter((r) => !r.done || (r.want !== undefined && r.outcome !== r.want));
}

/** A leaver whose verification is still reading devices. */
export function verifying(r: Row): boolean {
  return r.evidence?.verification.state === 'pending';
}

function tally(rows: Row[]) {
  const count = (pred: (r: Row) => boolean) => rows.filter(pred).length;
  const state = (s: string) => count((r) => r.evidence?.verification.state === s);
  return {
    retired: count((r) => r.outcome === 'retired'),
    completed: count((r) => r.outcome === 'completed'),
    noDevices: count((r) => r.outcome === 'no_devices'),
    dry: count((r) => r.outcome === 'dry_run'),
    dead: count((r) => r.outcome.startsWith('dead letter')),
    pending: count((r) => !FINISHED.has(r.outcome) && !r.outcome.startsWith('dead letter')),
    verified: state('verified'),
    unverified: state('unverified'),
    verifying: state('pending'),
  };
}

export function summaryLine(rows: Row[], sim: SimFigures, elapsedMs: number): string {
  const t = tally(rows);
  return [
    `${(elapsedMs / 1000).toFixed(1).padStart(5)} s`,
    `retired ${t.retired}/${rows.length}`,
    `no devices ${t.noDevices}`,
    `dry-run ${t.dry}`,
    `dead-lettered ${t.dead}`,
    `pending ${t.pending}`,
    `verified ${t.verified}`,
    `unverified ${t.unverified}`,
    `verifying ${t.verifying}`,
    `Graph calls ${sim.graph.calls}`,
    `429s ${sim.graph.throttled}`,
  ].join(' · ');
}

function verificationOf(r: Row): string {
  return r.evidence?.verification.state ?? '-';
}

export function printFinal(
  say: (line?: string) => void,
  rows: Row[],
  sim: SimFigures,
  elapsedMs: number,
): void {
  const w = Math.max(...rows.map((r) => r.user.length), 4);
  const o = Math.max(...rows.map((r) => r.outcome.length), 7);
  say('');
  say(
    `${'user'.padEnd(w)}  ${'outcome'.padEnd(o)}  calls  429-waits  devices  verification    graph request-id                      expected`,
  );
  say(
    `${'-'.repeat(w)}  ${'-'.repeat(o)}  -----  ---------  -------  --------------  ------------------------------------  --------`,
  );
  for (const r of rows) {
    say(
      `${r.user.padEnd(w)}  ${r.outcome.padEnd(o)}  ${String(r.calls ?? '-').padStart(5)}  ${String(r.throttledWaits ?? '-').padStart(9)}  ${String(r.evidence?.devices.length ?? '-').padStart(7)}  ${verificationOf(r).padEnd(14)}  ${(r.requestId ?? '-').padEnd(36)}  ${r.expect}`,
    );
  }
  printDevices(say, rows, w);
  const t = tally(rows);
  say('');
  say(
    `done in ${(elapsedMs / 1000).toFixed(1)} s: ${rows.length} leavers, ${t.retired} retired, ` +
      (t.completed ? `${t.completed} completed under a device policy, ` : '') +
      `${t.noDevices} without devices (no POST), ${t.dry} dry-run, ${t.dead} dead-lettered; ` +
      `verification: ${t.verified} verified, ${t.unverified} unverified, ${t.verifying} still verifying; ` +
      `${sim.graph.calls} Graph calls, ${sim.graph.throttled} answered 429, ` +
      `${sim.graph.insideRetryAfterWindow} sent inside an announced Retry-After window` +
      (sim.reads ? `; ${sim.reads.calls} device reads (${sim.reads.throttled} answered 429)` : ''),
  );
  const off = unexpected(rows);
  if (off.length > 0) {
    say(`NOT AS EXPECTED: ${off.length} leaver(s)`);
    for (const r of off.slice(0, 10)) say(`  ${r.user}: ${r.outcome}, expected ${r.want ?? 'an outcome'}`);
  }
}

/** Per leaver with evidence: each device before the action → what the verification found after. */
function printDevices(say: (line?: string) => void, rows: Row[], w: number): void {
  const withDevices = rows.filter((r) => (r.evidence?.devices.length ?? 0) > 0);
  if (withDevices.length === 0) return;
  say('');
  say('devices before the action → after it (the evidence)');
  say(
    `${'user'.padEnd(w)}  ${'device'.padEnd(20)}  ${'os'.padEnd(8)}  ${'serial'.padEnd(12)}  ${'owner'.padEnd(8)}  before → after                   result`,
  );
  for (const r of withDevices) {
    const e = r.evidence as EvidenceRecord;
    const checks = new Map(e.verification.devices.map((c) => [c.deviceId, c]));
    for (const d of e.devices) {
      const c = checks.get(d.id);
      const acted = e.action !== undefined || (e.deviceActions?.length ?? 0) > 0;
      const after = !acted ? 'no action sent' : c ? (c.stateAfter ?? 'gone') : 'not checked';
      say(
        `${r.user.padEnd(w)}  ${String(d.deviceName ?? d.id)
          .slice(0, 20)
          .padEnd(20)}  ${String(d.operatingSystem ?? '-').padEnd(8)}  ${String(d.serialNumber ?? '-')
          .slice(0, 12)
          .padEnd(
            12,
          )}  ${String(d.managedDeviceOwnerType ?? '-').padEnd(8)}  ${`${d.managementState ?? '-'} → ${after}`.padEnd(31)}  ${c?.result ?? '-'}`,
      );
    }
  }
}
