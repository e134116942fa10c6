// Named component schemas for generated clients. Route schemas stay plain literals (Fastify
// validates and serializes with them as they are); this pass over the finished document moves
// every schema that carries a `title` into `components.schemas` and points to it with `$ref`, and
// names the remaining JSON bodies after their operation. Generators then emit one named type per
// body (JobView, EnqueueResult, Problem…) instead of anonymous inline copies.

type Json = Record<string, unknown>;

const JSON_MEDIA = /^application\/(?:[a-z.+-]*\+)?json$/;
/** Keywords whose values are data, not schemas: never walked. */
const DATA_KEYWORDS = new Set(['enum', 'const', 'default', 'examples', 'example', 'required']);

/** Two schemas with one title but different content: the document would lie about one of them. */
export class ComponentConflictError extends Error {
  override readonly name = 'ComponentConflictError';
  constructor(readonly title: string) {
    super(`two different schemas are both titled "${title}": give one of them another title`);
  }
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Returns a copy of the OpenAPI document with its body schemas as named components. */
export function withNamedComponents(document: Json): Json {
  const doc = structuredClone(document);
  const components = (isObject(doc.components) ? doc.components : {}) as Json;
  const schemas = (isObject(components.schemas) ? components.schemas : {}) as Record<string, Json>;
  const seen = new Map<string, string>();

  const register = (name: string, def: Json, description: unknown): Json => {
    const key = JSON.stringify(def);
    const known = seen.get(name);
    if (known !== undefined && known !== key) throw new ComponentConflictError(name);
    if (known === undefined) {
      seen.set(name, key);
      schemas[name] = def;
    }
    // A use may describe the shared schema in its own words (JSON Schema 2020-12 allows siblings).
    return typeof description === 'string'
      ? { $ref: `#/components/schemas/${name}`, description }
      : { $ref: `#/components/schemas/${name}` };
  };

  const hoist = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(hoist);
    if (!isObject(node)) return node;
    const walked: Json = {};
    for (const [k, v] of Object.entries(node)) walked[k] = DATA_KEYWORDS.has(k) ? v : hoist(v);
    if (typeof walked.title !== 'string' || walked.$ref !== undefined) return walked;
    const { description, ...def } = walked;
    return register(walked.title, def, description);
  };

  /** A body schema: titled ones become their component, the rest take the operation's name. */
  const bodySchema = (schema: unknown, fallbackName: string): unknown => {
    const hoisted = hoist(schema);
    if (!isObject(hoisted) || hoisted.$ref !== undefined) return hoisted;
    const { description, ...def } = hoisted;
    return register(fallbackName, { title: fallbackName, ...def }, description);
  };

  const paths = (isObject(doc.paths) ? doc.paths : {}) as Record<string, Record<string, Json>>;
  for (const operations of Object.values(paths)) {
    for (const op of Object.values(operations)) {
      if (!isObject(op) || typeof op.operationId !== 'string') continue;
      const name = pascal(op.operationId);
      const body = op.requestBody as Json | undefined;
      for (const [media, entry] of Object.entries((body?.content ?? {}) as Record<string, Json>)) {
        if (JSON_MEDIA.test(media)) entry.schema = bodySchema(entry.schema, `${name}Request`);
      }
      for (const [status, response] of Object.entries((op.responses ?? {}) as Record<string, Json>)) {
        for (const [media, entry] of Object.entries((response.content ?? {}) as Record<string, Json>)) {
          if (JSON_MEDIA.test(media)) entry.schema = bodySchema(entry.schema, `${name}Response${status}`);
        }
      }
    }
  }
  doc.components = { ...components, schemas };
  return doc;
}
