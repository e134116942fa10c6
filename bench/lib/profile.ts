// A clinic-style summary of V8 CPU profiles (node --cpu-prof): where a worker process spends its
// time, by package or product module (self and inclusive) and by hottest function.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Share {
  name: string;
  ms: number;
  /** Percentage of busy (non-idle) time. */
  pct: number;
}

export interface ProfileSummary {
  files: string[];
  totalMs: number;
  busyMs: number;
  selfByCategory: Share[];
  inclusiveByCategory: Share[];
  topFunctions: Share[];
}

/** Package name for node_modules code, `offboard/<module>` for the product, `node:<lib>` for Node. */
export function category(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  // The product runs from a snapshot of dist/ under node_modules/.cache (see build.ts).
  const snap = url.indexOf('/offboard-bench/dist/');
  if (snap >= 0) return `offboard/${url.slice(snap + 21).replace(/\.js$/, '')}`;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? 'node_modules');
  }
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return `offboard/${url.slice(dist + 6).replace(/\.js$/, '')}`;
  const bench = url.indexOf('/bench/');
  if (bench >= 0) return `bench/${url.slice(bench + 7).replace(/\.ts$/, '')}`;
  if (url.startsWith('node:internal/deps/')) return `node:${url.slice(19).split('/')[0]}`;
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').split('/')[0] as string;
  return 'other';
}

function top(map: Map<string, number>, busy: number, n: number): Share[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, ms: us / 1000, pct: (us / busy) * 100 }));
}

export function summarizeProfiles(dir: string, topN = 15): ProfileSummary {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const fn = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const f of files) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    // Each node's category chain, computed once.
    const chain = new Map<number, Set<string>>();
    const chainOf = (id: number): Set<string> => {
      const known = chain.get(id);
      if (known) return known;
      const node = byId.get(id) as ProfileNode;
      const up = parent.get(id);
      const set = new Set(up === undefined ? [] : chainOf(up));
      set.add(category(node.callFrame));
      chain.set(id, set);
      return set;
    };
    // Only the processing window counts: from the first to the last sample with BullMQ's
    // processJob on the stack. Start-up (module loading, connecting) and idle waits fall outside.
    const inJob = new Map<number, boolean>();
    const hasJob = (id: number): boolean => {
      const known = inJob.get(id);
      if (known !== undefined) return known;
      const node = byId.get(id) as ProfileNode;
      const up = parent.get(id);
      const v = node.callFrame.functionName === 'processJob' || (up !== undefined && hasJob(up));
      inJob.set(id, v);
      return v;
    };
    const first = p.samples.findIndex((id) => hasJob(id));
    let last = p.samples.length - 1;
    while (last > 0 && !hasJob(p.samples[last] as number)) last--;
    // No job ran in this profile (e.g. the tsx loader thread of a baseline worker): nothing to count.
    if (first < 0) continue;
    p.samples.forEach((id, i) => {
      if (i < first || i > last) return;
      const dt = p.timeDeltas[i] ?? 0;
      const node = byId.get(id);
      if (!node) return;
      total += dt;
      const cat = category(node.callFrame);
      if (cat === '(idle)') {
        idle += dt;
        return;
      }
      self.set(cat, (self.get(cat) ?? 0) + dt);
      const { functionName, url, lineNumber } = node.callFrame;
      const file = url.slice(url.lastIndexOf('/') + 1);
      const key = `${functionName || '(anonymous)'} (${cat}${file ? ` ${file}:${lineNumber + 1}` : ''})`;
      fn.set(key, (fn.get(key) ?? 0) + dt);
      for (const c of chainOf(id)) if (c !== '(root)') inclusive.set(c, (inclusive.get(c) ?? 0) + dt);
    });
  }
  const busy = Math.max(1, total - idle);
  return {
    files,
    totalMs: total / 1000,
    busyMs: busy / 1000,
    selfByCategory: top(self, busy, topN),
    inclusiveByCategory: top(inclusive, busy, topN),
    topFunctions: top(fn, busy, topN),
  };
}

export function profileMarkdown(title: string, s: ProfileSummary): string {
  const rows = (list: Share[]) =>
    list.map((x) => `| ${x.name} | ${x.ms.toFixed(0)} | ${x.pct.toFixed(1)} |`).join('\n');
  return [
    `#### ${title}`,
    '',
    `${s.files.length} profile(s); processing window ${s.totalMs.toFixed(0)} ms, of which ${s.busyMs.toFixed(0)} ms on the CPU.`,
    '',
    '| self time by package / module | ms | % busy |',
    '|---|---:|---:|',
    rows(s.selfByCategory),
    '',
    '| inclusive time (on the stack) | ms | % busy |',
    '|---|---:|---:|',
    rows(s.inclusiveByCategory),
    '',
    '| hottest functions (self) | ms | % busy |',
    '|---|---:|---:|',
    rows(s.topFunctions),
    '',
  ].join('\n');
}
