// What the demo prints: a one-line live summary and the final per-leaver table.

export interface Row {
  user: string;
  expect: string;
  id: string;
  done: boolean;
  outcome: string;
  status?: number | null;
  calls?: number;
  throttledWaits?: number;
  requestId?: string;
}

export interface SimFigures {
  graph: {
    calls: number;
    throttled: number;
    insideRetryAfterWindow: number;
    byStatus: Record<string, number>;
  };
}

export function summaryLine(rows: Row[], sim: SimFigures, elapsedMs: number): string {
  const count = (pred: (r: Row) => boolean) => rows.filter(pred).length;
  const retired = count((r) => r.outcome === 'retired');
  const dry = count((r) => r.outcome === 'dry_run');
  const dead = count((r) => r.outcome.startsWith('dead letter'));
  const pending = rows.length - retired - dry - dead;
  return [
    `${(elapsedMs / 1000).toFixed(1).padStart(5)} s`,
    `retired ${retired}/${rows.length}`,
    `dry-run ${dry}`,
    `dead-lettered ${dead}`,
    `pending ${pending}`,
    `Graph calls ${sim.graph.calls}`,
    `429s ${sim.graph.throttled}`,
  ].join(' · ');
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
    `${'user'.padEnd(w)}  ${'outcome'.padEnd(o)}  calls  429-waits  graph request-id                      expected`,
  );
  say(`${'-'.repeat(w)}  ${'-'.repeat(o)}  -----  ---------  ------------------------------------  --------`);
  for (const r of rows) {
    say(
      `${r.user.padEnd(w)}  ${r.outcome.padEnd(o)}  ${String(r.calls ?? '-').padStart(5)}  ${String(r.throttledWaits ?? '-').padStart(9)}  ${(r.requestId ?? '-').padEnd(36)}  ${r.expect}`,
    );
  }
  const retired = rows.filter((r) => r.outcome === 'retired').length;
  const dead = rows.filter((r) => r.outcome.startsWith('dead letter')).length;
  say('');
  say(
    `done in ${(elapsedMs / 1000).toFixed(1)} s: ${rows.length} leavers, ${retired} retired, ` +
      `${rows.filter((r) => r.outcome === 'dry_run').length} dry-run, ${dead} dead-lettered; ` +
      `${sim.graph.calls} Graph calls, ${sim.graph.throttled} answered 429, ` +
      `${sim.graph.insideRetryAfterWindow} sent inside an announced Retry-After window`,
  );
}
