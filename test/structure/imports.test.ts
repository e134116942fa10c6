// The folder graph of src/: no folder imports a folder that imports it back. Each top-level folder
// of src/ is one concept; a pair that needs each other is one concept split in two, or a move
// waiting to happen. Files directly under src/ (interfaces.ts, log.ts, cli.ts…) are shared roots
// and are left out. Relative imports only: packages are not folders of ours.
// Files: no file imports itself back through any chain (a file circle), wherever the files lie.
// Type-only imports count: they vanish at run time, so they cause no load-order bug, but a type
// circle is the same coupling (neither file can be read or moved without the other), and every
// circle this test was written against (ConsoleEnv, SweepSummary, SimRoute/SimState) was type-only.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

// Static `import … from`, `export … from` (multi-line included) and dynamic `import('…')`.
const SPECIFIERS = [
  /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+'(\.{1,2}\/[^']+)'/g,
  /\bimport\(\s*'(\.{1,2}\/[^']+)'\s*\)/g,
];

/** The top-level folder of src/ a path lies in, or undefined for a file directly under src/. */
function folderOf(path: string): string | undefined {
  const parts = relative(SRC, path).split(sep);
  return parts.length > 1 ? parts[0] : undefined;
}

/** Every .ts file under src/, relative to src/. */
function sourceFiles(): string[] {
  return readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
}

/** Relative paths (to src/) of the files a file imports, `.js` specifiers read as their `.ts`. */
function importsOf(file: string): string[] {
  const path = join(SRC, file);
  const text = readFileSync(path, 'utf8');
  const out = new Set<string>();
  for (const pattern of SPECIFIERS) {
    for (const match of text.matchAll(pattern)) {
      out.add(relative(SRC, resolve(dirname(path), (match[1] as string).replace(/\.js$/, '.ts'))));
    }
  }
  return [...out];
}

function fileGraph(): Map<string, string[]> {
  const files = sourceFiles();
  const known = new Set(files);
  return new Map(files.map((f) => [f, importsOf(f).filter((to) => known.has(to))]));
}

/**
 * The file circles of a graph: its strongly connected components of more than one file, or one
 * file importing itself (Tarjan's algorithm), each sorted, for a stable message.
 */
function fileCircles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string | undefined;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.includes(v)) circles.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return circles.sort((a, b) => a.join().localeCompare(b.join()));
}

function folderGraph(): Map<string, Map<string, string[]>> {
  const graph = new Map<string, Map<string, string[]>>();
  for (const file of sourceFiles()) {
    const from = folderOf(join(SRC, file));
    if (!from) continue;
    for (const target of importsOf(file)) {
      const to = folderOf(join(SRC, target));
      if (!to || to === from) continue;
      const edges = graph.get(from) ?? new Map<string, string[]>();
      graph.set(from, edges);
      edges.set(to, [...(edges.get(to) ?? []), file]);
    }
  }
  return graph;
}

/** Pairs of folders that import each other, each with the files that do it, sorted. */
function mutualImports(graph: Map<string, Map<string, string[]>>): string[] {
  const pairs: string[] = [];
  for (const [a, edges] of graph) {
    for (const [b, files] of edges) {
      const back = graph.get(b)?.get(a);
      if (a < b && back) pairs.push(`${a} ⇄ ${b} (${files.join(', ')} ⇄ ${back.join(', ')})`);
    }
  }
  return pairs.sort();
}

// Pairs that wait for a move already planned, each listed with its reason so that no new pair
// hides among them. Remove an entry when its move lands: the test then keeps it from coming back.
const PENDING: Record<string, string> = {};

describe('src/ folder imports', () => {
  const graph = folderGraph();

  it('reads the imports (the parser sees the folders it should)', () => {
    // Guards the test itself: a regex that matched nothing would pass every check below.
    expect(graph.get('api')?.has('intake')).toBe(true);
    expect(graph.get('cli')?.has('intake')).toBe(true);
    expect(graph.size).toBeGreaterThan(8);
  });

  it('records never imports intake (redrive and discard live in intake)', () => {
    expect(graph.get('records')?.get('intake')).toBeUndefined();
  });

  it('no folder imports a folder that imports it back', () => {
    const pairs = mutualImports(graph).filter((p) => !(p.slice(0, p.indexOf(' (')) in PENDING));
    expect(pairs).toEqual([]);
  });

  it('every pending pair still exists (drop it from the list once its move lands)', () => {
    const names = mutualImports(graph).map((p) => p.slice(0, p.indexOf(' (')));
    expect(names.filter((n) => n in PENDING).sort()).toEqual(Object.keys(PENDING).sort());
  });
});

describe('src/ file imports', () => {
  const graph = fileGraph();

  it('reads the imports, type-only ones included', () => {
    // Guards the test itself: `import type` lines are edges too (see the header).
    expect(graph.get('api/console/pages/batches.ts')).toContain('api/console/env.ts');
    expect(graph.get('schedule/sweep-status.ts')).toContain('schedule/sweep-summary.ts');
  });

  it('finds a circle when there is one (the finder itself)', () => {
    const sample = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts', 'd.ts']],
      ['d.ts', []],
      ['e.ts', ['e.ts']],
    ]);
    expect(fileCircles(sample)).toEqual([['a.ts', 'b.ts', 'c.ts'], ['e.ts']]);
  });

  it('no file imports itself back through any chain of imports', () => {
    expect(fileCircles(graph).map((c) => c.join(' ⇄ '))).toEqual([]);
  });
});
