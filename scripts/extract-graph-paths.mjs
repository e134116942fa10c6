#!/usr/bin/env node
// Extracts, from Microsoft's published v1.0 CSDL (microsoftgraph/msgraph-metadata,
// clean_v10_metadata/cleanMetadata.xml), what the request paths offboard sends walk through and
// v1.0-subset.json does not carry: the entity sets and singletons they start from, the navigation
// properties they follow, and the namespace of each bound action in the subset. Output:
// src/graph/contract/v1.0-paths.json. Run it again when the subset is refreshed from a newer commit:
//
//   git -C msgraph-metadata show <commit>:clean_v10_metadata/cleanMetadata.xml > /tmp/meta.xml
//   node scripts/extract-graph-paths.mjs /tmp/meta.xml <commit> > src/graph/contract/v1.0-paths.json
//
// Plain regular expressions over the CSDL (one element per line, as Microsoft publishes it): no XML
// dependency for a script run a few times a year.
import { readFileSync } from 'node:fs';

const [file, commit] = process.argv.slice(2);
if (!file || !commit) {
  process.stderr.write('usage: extract-graph-paths.mjs <cleanMetadata.xml> <commit>\n');
  process.exit(2);
}
const xml = readFileSync(file, 'utf8');

// Where the product's paths start, and the types whose navigation properties they follow.
const ROOTS = ['users', 'identityGovernance', 'deviceManagement'];
const TYPES = [
  'microsoft.graph.user',
  'microsoft.graph.identityGovernance',
  'microsoft.graph.deviceManagement',
  'microsoft.graph.identityGovernance.lifecycleWorkflowsContainer',
  'microsoft.graph.identityGovernance.workflow',
  'microsoft.graph.identityGovernance.workflowBase',
  'microsoft.graph.identityGovernance.task',
  'microsoft.graph.identityGovernance.taskProcessingResult',
];
const subset = JSON.parse(readFileSync(new URL('../src/graph/contract/v1.0-subset.json', import.meta.url)));

/** Every schema: namespace, alias and its text. */
const schemas = [
  ...xml.matchAll(/<Schema Namespace="([^"]+)"(?: Alias="([^"]+)")?[^>]*>([\s\S]*?)<\/Schema>/g),
].map((m) => ({ namespace: m[1], alias: m[2], text: m[3] }));
/** `graph.x` / `self.x` → `microsoft.graph.x`: aliases written out, so the checker has one spelling. */
function qualify(type, schema) {
  const coll = /^Collection\((.*)\)$/.exec(type);
  if (coll) return `Collection(${qualify(coll[1], schema)})`;
  for (const s of schemas)
    if (s.alias && type.startsWith(`${s.alias}.`)) return s.namespace + type.slice(s.alias.length);
  return type.includes('.') ? type : `${schema.namespace}.${type}`;
}

const out = {
  source:
    'microsoftgraph/msgraph-metadata clean_v10_metadata/cleanMetadata.xml (scripts/extract-graph-paths.mjs)',
  commit,
  entitySets: {},
  singletons: {},
  types: {},
  actionNamespaces: {},
};
for (const s of schemas) {
  for (const m of s.text.matchAll(/<(EntitySet|Singleton) Name="([^"]+)" (?:EntityType|Type)="([^"]+)"/g)) {
    if (!ROOTS.includes(m[2])) continue;
    out[m[1] === 'EntitySet' ? 'entitySets' : 'singletons'][m[2]] = qualify(m[3], s);
  }
  // A self-closing <EntityType … /> has no body: matched apart, so it never swallows the next type.
  for (const m of s.text.matchAll(/<EntityType Name="([^"]+)"([^>]*?)(?:\/>|>([\s\S]*?)<\/EntityType>)/g)) {
    const name = `${s.namespace}.${m[1]}`;
    if (!TYPES.includes(name)) continue;
    const base = /BaseType="([^"]+)"/.exec(m[2])?.[1];
    const nav = {};
    for (const n of (m[3] ?? '').matchAll(/<NavigationProperty Name="([^"]+)" Type="([^"]+)"/g))
      nav[n[1]] = qualify(n[2], s);
    out.types[name] = { baseType: base ? qualify(base, s) : null, navigationProperties: nav };
  }
  for (const a of subset.boundActions) {
    const bound = a.boundTo.startsWith('graph.') ? `microsoft.${a.boundTo}` : a.boundTo;
    const re = new RegExp(
      `<Action Name="${a.name}"[^>]*IsBound="true">\\s*<Parameter Name="bindingParameter" Type="([^"]+)"`,
      'g',
    );
    for (const m of s.text.matchAll(re)) {
      if (qualify(m[1], s) === bound) out.actionNamespaces[`${a.name}@${bound}`] = s.namespace;
    }
  }
}
process.stdout.write(`${JSON.stringify(out, null, 1)}\n`);
