// The query options of a Graph request held to the v1.0 contract (load.ts): the system query options
// OData defines, and every property named in $select, $filter and $orderby, with the enum values a
// $filter compares. Pure: it returns what is wrong; check.ts walks the path and the body.
import { enumMembers, fullTypeName, graphContract, propertiesOf } from './load.js';

export type ContractViolation =
  | { kind: 'segment'; segment: string; on: string | null; message: string }
  | { kind: 'method'; method: string; message: string }
  | { kind: 'option'; option: string; message: string }
  | {
      kind: 'property';
      option: '$select' | '$filter' | '$orderby' | 'body';
      property: string;
      type: string;
      message: string;
    }
  | { kind: 'parameter'; action: string; parameter: string; message: string }
  | { kind: 'enum'; enumType: string; value: string; where: string; message: string }
  | { kind: 'type'; expected: string; where: string; message: string }
  | { kind: 'body'; message: string };

/** The system query options OData v4 defines; any other `$…` is refused. */
const SYSTEM_OPTIONS = new Set([
  '$select',
  '$expand',
  '$filter',
  '$orderby',
  '$top',
  '$skip',
  '$count',
  '$search',
  '$format',
  '$skiptoken',
  '$deltatoken',
  '$apply',
  '$compute',
]);

/** Every property (and navigation property, which $select may name) of a type. */
function selectable(type: string): Set<string> {
  const names = new Set(Object.keys(propertiesOf(type) ?? {}));
  const c = graphContract();
  for (let t = c.types.get(type); t; t = t.baseType ? c.types.get(t.baseType) : undefined) {
    for (const n of Object.keys(t.navigationProperties)) names.add(n);
  }
  return names;
}

export function propertyViolation(
  option: '$select' | '$filter' | '$orderby' | 'body',
  property: string,
  type: string,
): ContractViolation {
  return {
    kind: 'property',
    option,
    property,
    type,
    message: `${option === 'body' ? 'body property' : option} '${property}' is not a property of ${type} in v1.0`,
  };
}

export function checkSelect(type: string, text: string): ContractViolation[] {
  const known = selectable(type);
  return text
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '*' && !known.has(f.split('/')[0] as string))
    .map((f) => propertyViolation('$select', f, type));
}

export function checkOrderBy(type: string, text: string): ContractViolation[] {
  const known = selectable(type);
  const out: ContractViolation[] = [];
  for (const item of text.split(',')) {
    const [path = '', dir, ...rest] = item.trim().split(/\s+/);
    const prop = path.split('/')[0] as string;
    if (!known.has(prop)) out.push(propertyViolation('$orderby', prop, type));
    if ((dir !== undefined && dir !== 'asc' && dir !== 'desc') || rest.length > 0) {
      out.push({ kind: 'option', option: '$orderby', message: `'$orderby=${text}' is not valid OData` });
    }
  }
  return out;
}

const FILTER_WORDS = new Set([
  'eq',
  'ne',
  'gt',
  'ge',
  'lt',
  'le',
  'and',
  'or',
  'not',
  'has',
  'in',
  'true',
  'false',
  'null',
]);
const COMPARE = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);

/**
 * The properties a `$filter` names, checked against the type, and the string literals compared with
 * an enum property, checked against the enum's members. Functions (`startswith(…)`) and lambda
 * operators keep their arguments checked; literals (numbers, dates, GUIDs, quoted strings) are skipped.
 */
export function checkFilter(type: string, text: string): ContractViolation[] {
  const props = propertiesOf(type) ?? {};
  const known = selectable(type);
  const tokens = [...text.matchAll(/'(?:[^']|'')*'|[()/,]|[^\s()/,']+/g)].map((m) => m[0]);
  const out: ContractViolation[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i] as string;
    if (tok.startsWith("'") || tok.startsWith('$') || /^[()/,]$/.test(tok) || FILTER_WORDS.has(tok)) continue;
    if (tokens[i - 1] === '/') continue; // a sub-property of a complex property: its type is not in the subset
    if (/^[-+]?\d/.test(tok) || /^[0-9a-f]{8}-/i.test(tok)) continue; // number, date-time, GUID
    if (tokens[i + 1] === '(') continue; // a function name
    if (!known.has(tok)) {
      out.push(propertyViolation('$filter', tok, type));
      continue;
    }
    const members = enumMembers(props[tok] ?? '');
    if (!members) continue;
    const op = tokens[i + 1] ?? '';
    const values = COMPARE.has(op)
      ? [tokens[i + 2]]
      : op === 'in' && tokens[i + 2] === '('
        ? tokens.slice(i + 3, tokens.indexOf(')', i + 3)).filter((t) => t !== ',')
        : [];
    for (const v of values) {
      if (v === undefined || !v.startsWith("'")) continue;
      const value = v.slice(1, -1).replaceAll("''", "'");
      if (!members.includes(value)) out.push(enumViolation(props[tok] as string, value, `$filter ${tok}`));
    }
  }
  return out;
}

export function enumViolation(enumType: string, value: string, where: string): ContractViolation {
  return {
    kind: 'enum',
    enumType: fullTypeName(enumType),
    value,
    where,
    message: `'${value}' is not a member of ${fullTypeName(enumType)} (${where})`,
  };
}

/** The system query options of a request on an entity or collection of `type`. */
export function checkQuery(type: string, query: URLSearchParams): ContractViolation[] {
  const out: ContractViolation[] = [];
  for (const [key, value] of query) {
    if (key.startsWith('$') && !SYSTEM_OPTIONS.has(key)) {
      out.push({ kind: 'option', option: key, message: `'${key}' is not an OData system query option` });
    } else if (key === '$select') out.push(...checkSelect(type, value));
    else if (key === '$filter') out.push(...checkFilter(type, value));
    else if (key === '$orderby') out.push(...checkOrderBy(type, value));
  }
  return out;
}
