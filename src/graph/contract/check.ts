// Checks a Graph request against the v1.0 contract (load.ts): each path segment (entity set or
// singleton, key, navigation property, bound action), each property named in $select, $filter and
// $orderby, each system query option, each action parameter, each enum value. Pure: it returns what
// is wrong (ContractViolation[]); the simulator answers those the way Graph does and the contract
// test fails on any. Only the OData the product speaks is parsed; anything else is reported, never
// waved through.
import { enumMembers, graphContract, navigationOf, propertiesOf } from './load.js';
import { type ContractViolation, checkQuery, enumViolation, propertyViolation } from './query.js';

export type { ContractViolation } from './query.js';
export { checkFilter, checkOrderBy, checkQuery, checkSelect } from './query.js';

/** What a path addresses: a collection or one entity of a type, or a bound action on one. */
export type PathTarget =
  /** `keyed`: one entity of a collection addressed by its key (what a DELETE may address). */
  | { kind: 'entity'; type: string; many: boolean; keyed?: boolean }
  | {
      kind: 'action';
      action: string;
      namespace: string;
      boundTo: string;
      parameters: Record<string, string>;
    };

const stripCollection = (t: string) => /^Collection\((.*)\)$/.exec(t)?.[1] ?? t;

/** Walks a path below GRAPH_BASE_URL (`users/x/managedDevices`, `users('…')/action`, `/identityGovernance/…`). */
export function resolvePath(path: string): { target?: PathTarget; violations: ContractViolation[] } {
  const c = graphContract();
  const segments = path.replace(/^\/+/, '').replace(/\/+$/, '').split('/');
  let at: { type: string; many: boolean; keyed?: boolean } | null = null;
  for (let i = 0; i < segments.length; i++) {
    const raw = segments[i] as string;
    if (at?.many) {
      // A key segment (`users/{id}`): any value addresses one entity of the collection.
      at = { type: at.type, many: false, keyed: true };
      continue;
    }
    const m = /^([^()]*)(?:\((.*)\))?$/.exec(raw);
    const name = m?.[1] ?? '';
    const hasKey = m?.[2] !== undefined;
    const unknown = (): { violations: ContractViolation[] } => ({
      violations: [
        {
          kind: 'segment',
          segment: raw,
          on: at?.type ?? null,
          message: `segment '${raw}' is not ${at ? `a navigation property or bound action of ${at.type}` : 'an entity set or singleton'} in v1.0`,
        },
      ],
    });
    if (!m || name === '') return unknown();
    if (at === null) {
      const root = c.roots.get(name);
      if (!root) return unknown();
      at = { type: root.type, many: root.many && !hasKey, keyed: root.many && hasKey };
      continue;
    }
    const nav = navigationOf(at.type, name);
    if (nav) {
      const many = nav.startsWith('Collection(');
      at = { type: stripCollection(nav), many: many && !hasKey, keyed: many && hasKey };
      continue;
    }
    const action = findAction(at.type, name);
    if (action && !hasKey && i === segments.length - 1) {
      return {
        target: {
          kind: 'action',
          action: action.name,
          namespace: action.namespace,
          boundTo: action.boundTo,
          parameters: action.parameters,
        },
        violations: [],
      };
    }
    return unknown();
  }
  return at ? { target: { kind: 'entity', ...at }, violations: [] } : { violations: [] };
}

/** A bound action of the type (or a base type), by `name` (default namespace) or `namespace.name`. */
function findAction(type: string, segment: string) {
  const c = graphContract();
  const chain = new Set<string>();
  for (
    let t = c.types.get(type);
    t && chain.size < 10;
    t = t.baseType ? c.types.get(t.baseType) : undefined
  ) {
    chain.add(t.name);
  }
  chain.add(type);
  return c.actions.find(
    (a) =>
      chain.has(a.boundTo) &&
      (segment === `${a.namespace}.${a.name}` || (a.namespace === 'microsoft.graph' && segment === a.name)),
  );
}

/**
 * An action's body: a JSON object whose keys are the action's parameters, each value of its type
 * (complex values property by property, enums by member). An action without parameters takes no
 * body, or an empty object.
 */
export function checkActionBody(
  action: { name: string; parameters: Record<string, string> },
  body: unknown,
): ContractViolation[] {
  if (body === undefined || body === null || body === '') return [];
  if (typeof body !== 'object' || Array.isArray(body)) {
    return [{ kind: 'body', message: `the body of ${action.name} must be a JSON object` }];
  }
  const out: ContractViolation[] = [];
  for (const [key, value] of Object.entries(body)) {
    const type = action.parameters[key];
    if (type === undefined) {
      out.push({
        kind: 'parameter',
        action: action.name,
        parameter: key,
        message: `${action.name} takes no parameter '${key}' in v1.0`,
      });
    } else out.push(...checkValue(type, value, `${action.name}.${key}`));
  }
  return out;
}

/** JSON shapes of the primitive types action parameters use (null is allowed: parameters are nullable). */
const PRIMITIVE: Record<string, (v: unknown) => boolean> = {
  'Edm.Boolean': (v) => typeof v === 'boolean',
  'Edm.String': (v) => typeof v === 'string',
  'Edm.Int32': (v) => Number.isInteger(v),
  'Edm.Int64': (v) => Number.isInteger(v),
  'Edm.DateTimeOffset': (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)),
};

/** A parameter or property value against its type: primitives, enum members, complex type properties. */
function checkValue(type: string, value: unknown, where: string): ContractViolation[] {
  const primitive = PRIMITIVE[type];
  if (primitive) {
    return value === null || primitive(value)
      ? []
      : [
          {
            kind: 'type',
            expected: type,
            where,
            message: `${where} must be ${type} in v1.0, not ${JSON.stringify(value)}`,
          },
        ];
  }
  const members = enumMembers(type);
  if (members) {
    return typeof value === 'string' && !members.includes(value) ? [enumViolation(type, value, where)] : [];
  }
  const props = propertiesOf(type);
  if (!props || typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const out: ContractViolation[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (key.startsWith('@odata.')) continue; // annotations (`@odata.type`), not properties
    const t = props[key];
    if (t === undefined) out.push(propertyViolation('body', key, type));
    else out.push(...checkValue(t, v, `${where}.${key}`));
  }
  return out;
}

export interface ContractRequest {
  method: string;
  /** Below GRAPH_BASE_URL, with its query string: `users/x/managedDevices?$select=…`. */
  path: string;
  /** Parsed JSON body, or undefined for none. */
  body?: unknown;
}

/** Everything the contract says is wrong with one request; [] when v1.0 takes it. */
export function checkRequest(req: ContractRequest): ContractViolation[] {
  const [pathPart = '', queryPart = ''] = req.path.split(/\?(.*)/s);
  const { target, violations } = resolvePath(pathPart);
  if (!target)
    return violations.length
      ? violations
      : [{ kind: 'segment', segment: '', on: null, message: 'empty path' }];
  const query = new URLSearchParams(queryPart);
  if (target.kind === 'action') {
    const out: ContractViolation[] = [];
    if (req.method !== 'POST') {
      out.push({ kind: 'method', method: req.method, message: `${target.action} is an action: POST only` });
    }
    for (const key of query.keys()) {
      out.push({ kind: 'option', option: key, message: `an action takes no query option ('${key}')` });
    }
    return [...out, ...checkActionBody({ name: target.action, parameters: target.parameters }, req.body)];
  }
  const out = checkQuery(target.type, query);
  if (req.method === 'DELETE') {
    // A DELETE removes one entity addressed by its key (`managedDevices/{id}`), without options or body.
    if (!target.keyed) {
      out.push({
        kind: 'method',
        method: 'DELETE',
        message: `DELETE needs one ${target.type} addressed by its key`,
      });
    }
    for (const key of query.keys()) {
      out.push({ kind: 'option', option: key, message: `a DELETE takes no query option ('${key}')` });
    }
    if (req.body !== undefined) out.push({ kind: 'body', message: 'a DELETE takes no body' });
    return out;
  }
  if (req.method !== 'GET') {
    out.push({
      kind: 'method',
      method: req.method,
      message: `${req.method} on ${target.type}: offboard only reads it`,
    });
  }
  return out;
}
