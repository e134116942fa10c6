// The folder graph of src/: no folder imports a folder that imports it back. Each top-level folder
// of src/ is one concept; a pair that needs each other is one concept split in two, or a move
// waiting to happen. Files directly under src/ (interfaces.ts, log.ts, cli.ts…) are shared roots
// and are left out. Relative imports only: packages are not folders of ours.
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

function folderGraph(): Map<string, Map<string, string[]>> {
  const graph = new Map<string, Map<string, string[]>>();
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  for (const file of files) {
    const path = join(SRC, file);
    const from = folderOf(path);
    if (!from) continue;
    const text = readFileSync(path, 'utf8');
    for (const pattern of SPECIFIERS) {
      for (const match of text.matchAll(pattern)) {
        const to = folderOf(resolve(dirname(path), match[1] as string));
        if (!to || to === from) continue;
        const edges = graph.get(from) ?? new Map<string, string[]>();
        graph.set(from, edges);
        edges.set(to, [...(edges.get(to) ?? []), file]);
      }
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
