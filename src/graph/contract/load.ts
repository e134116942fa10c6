// Microsoft Graph v1.0 as published (./README.md): the JSON files of this folder, loaded once, with
// type names written out in full (`graph.user` → `microsoft.graph.user`) so callers compare one
// spelling. Read from disk next to this module: `npm run build` copies the JSON into dist/, and a
// missing file fails at start-up, not at the first request the simulator answers.
import { readFileSync } from 'node:fs';

/** An entity or complex type: its structural properties (name → Edm or graph type). */
export interface ContractType {
  /** Full name, e.g. `microsoft.graph.managedDevice`. */
  name: string;
  baseType: string | null;
  properties: Record<string, string>;
  navigationProperties: Record<string, string>;
}

export interface ContractAction {
  name: string;
  /** Full name of the type the action is bound to. */
  boundTo: string;
  /** Namespace the action is declared in: the path may name it `namespace.name`. */
  namespace: string;
  /** Parameter name → type (full names), binding parameter excluded. */
  parameters: Record<string, string>;
}

export interface GraphContract {
  source: string;
  /** The msgraph-metadata commit both files were extracted from. */
  commit: string;
  types: ReadonlyMap<string, ContractType>;
  enums: ReadonlyMap<string, readonly string[]>;
  actions: readonly ContractAction[];
  /** Entity sets and singletons a path may start with → their (full) type; `many` for sets. */
  roots: ReadonlyMap<string, { type: string; many: boolean }>;
}

/** The JSON files are missing or not the shape this module reads. */
export class GraphContractLoadError extends Error {
  override readonly name = 'GraphContractLoadError';
}

interface SubsetFile {
  source: string;
  commit: string;
  entityTypes: Record<
    string,
    {
      baseType: string | null;
      properties: Record<string, string>;
      navigationProperties?: Record<string, string>;
    }
  >;
  complexTypes: Record<string, { baseType: string | null; properties: Record<string, string> }>;
  enumTypes: Record<string, string[]>;
  boundActions: { name: string; boundTo: string; parameters: Record<string, string> }[];
}

interface PathsFile {
  commit: string;
  entitySets: Record<string, string>;
  singletons: Record<string, string>;
  types: Record<string, { baseType: string | null; navigationProperties: Record<string, string> }>;
  actionNamespaces: Record<string, string>;
}

const GRAPH = 'microsoft.graph';

/** `graph.x` → `microsoft.graph.x`, inside `Collection(…)` too; full names are kept. */
export function fullTypeName(type: string): string {
  const coll = /^Collection\((.*)\)$/.exec(type);
  if (coll) return `Collection(${fullTypeName(coll[1] as string)})`;
  if (type.startsWith('graph.')) return `${GRAPH}.${type.slice('graph.'.length)}`;
  if (type.startsWith('Edm.') || type.startsWith(`${GRAPH}.`)) return type;
  return `${GRAPH}.${type}`;
}

function readJson<T>(file: string): T {
  try {
    return JSON.parse(readFileSync(new URL(`./${file}`, import.meta.url), 'utf8')) as T;
  } catch (err) {
    throw new GraphContractLoadError(
      `cannot read the Graph contract file ${file} (is it copied next to the build?): ${(err as Error).message}`,
    );
  }
}

function build(subset: SubsetFile, paths: PathsFile): GraphContract {
  if (subset.commit !== paths.commit) {
    throw new GraphContractLoadError(
      `v1.0-subset.json (${subset.commit}) and v1.0-paths.json (${paths.commit}) come from different metadata commits`,
    );
  }
  const types = new Map<string, ContractType>();
  const put = (name: string, t: Partial<ContractType>) => {
    const full = fullTypeName(name);
    const prev = types.get(full);
    types.set(full, {
      name: full,
      baseType:
        t.baseType !== undefined && t.baseType !== null ? fullTypeName(t.baseType) : (prev?.baseType ?? null),
      properties: { ...prev?.properties, ...mapValues(t.properties ?? {}) },
      navigationProperties: { ...prev?.navigationProperties, ...mapValues(t.navigationProperties ?? {}) },
    });
  };
  for (const [name, t] of Object.entries(subset.entityTypes)) put(name, t);
  const qualified = qualifier(subset);
  for (const [name, t] of Object.entries(subset.complexTypes)) put(qualified(name), t);
  for (const [name, t] of Object.entries(paths.types)) put(name, t);
  const enums = new Map<string, readonly string[]>();
  for (const [name, members] of Object.entries(subset.enumTypes)) {
    enums.set(qualified(name), Object.freeze([...members]));
  }
  const actions = subset.boundActions.map((a): ContractAction => {
    const boundTo = fullTypeName(a.boundTo);
    const namespace = paths.actionNamespaces[`${a.name}@${boundTo}`];
    if (!namespace) throw new GraphContractLoadError(`no namespace extracted for the action ${a.name}`);
    return { name: a.name, boundTo, namespace, parameters: mapValues(a.parameters) };
  });
  const roots = new Map<string, { type: string; many: boolean }>();
  for (const [n, t] of Object.entries(paths.entitySets)) roots.set(n, { type: fullTypeName(t), many: true });
  for (const [n, t] of Object.entries(paths.singletons)) roots.set(n, { type: fullTypeName(t), many: false });
  return { source: subset.source, commit: subset.commit, types, enums, actions, roots };
}

/**
 * The subset keys complex and enum types by their short name; the properties and parameters that use
 * them say their namespace (`microsoft.graph.identityGovernance.customTaskExtensionCallbackData`).
 * A short name nothing qualifies is in `microsoft.graph`.
 */
function qualifier(subset: SubsetFile): (shortName: string) => string {
  const used = new Set<string>();
  const add = (types: Record<string, string>) => {
    for (const v of Object.values(types)) used.add(fullTypeName(v).replace(/^Collection\((.*)\)$/, '$1'));
  };
  for (const t of Object.values(subset.entityTypes)) add(t.properties);
  for (const t of Object.values(subset.complexTypes)) add(t.properties);
  for (const a of subset.boundActions) add(a.parameters);
  return (shortName) => [...used].find((u) => u.endsWith(`.${shortName}`)) ?? `${GRAPH}.${shortName}`;
}

function mapValues(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fullTypeName(v)]));
}

let loaded: GraphContract | undefined;

/** The contract, read once per process. Throws GraphContractLoadError when the files are missing. */
export function graphContract(): GraphContract {
  loaded ??= build(readJson<SubsetFile>('v1.0-subset.json'), readJson<PathsFile>('v1.0-paths.json'));
  return loaded;
}

/** A type's structural properties, its base types' included; undefined for a type the contract lacks. */
export function propertiesOf(typeName: string): Record<string, string> | undefined {
  const c = graphContract();
  let t = c.types.get(fullTypeName(typeName));
  if (!t) return undefined;
  const out: Record<string, string> = {};
  for (let depth = 0; t && depth < 10; depth++) {
    for (const [k, v] of Object.entries(t.properties)) out[k] ??= v;
    t = t.baseType ? c.types.get(t.baseType) : undefined;
  }
  return out;
}

/** A navigation property of a type or its base types: its (full) type, or undefined. */
export function navigationOf(typeName: string, name: string): string | undefined {
  const c = graphContract();
  let t = c.types.get(fullTypeName(typeName));
  for (let depth = 0; t && depth < 10; depth++) {
    const nav = t.navigationProperties[name];
    if (nav) return nav;
    t = t.baseType ? c.types.get(t.baseType) : undefined;
  }
  return undefined;
}

/** The members of an enum type (full name), or undefined when the type is not an enum of the contract. */
export function enumMembers(typeName: string): readonly string[] | undefined {
  return graphContract().enums.get(fullTypeName(typeName));
}
