// Two Ajv instances: bodies are validated exactly as sent (no type coercion, unknown fields
// refused rather than silently dropped); path and query strings are coerced to their declared
// types, because everything in a URL arrives as text.

import type { ErrorObject } from 'ajv';
import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats is CommonJS; under NodeNext its default export is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export function makeAjv(coerce: boolean): Ajv {
  const opts: Options = {
    allErrors: false,
    removeAdditional: false,
    useDefaults: coerce,
    coerceTypes: coerce,
    // Schemas carry OpenAPI annotations (examples, descriptions) that strict mode would refuse.
    strict: false,
  };
  const ajv = new Ajv(opts);
  addFormats(ajv);
  return ajv;
}

export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const exact = makeAjv(false);
  const coercing = makeAjv(true);
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? exact : coercing;
    return ajv.compile(schema as object);
  };
}

/**
 * One readable sentence for an Ajv error, e.g. `user contains characters that are not allowed`.
 * Patterns are not echoed: they are long and say nothing to an HR system's developer.
 */
export function describeError(
  e: Pick<ErrorObject, 'instancePath' | 'keyword' | 'message' | 'params'>,
  root: string,
): string {
  const field = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : root;
  if (e.keyword === 'pattern') return `${field} contains characters that are not allowed`;
  if (e.keyword === 'additionalProperties') {
    const name = String((e.params as { additionalProperty?: unknown }).additionalProperty ?? '').slice(0, 40);
    return `unknown field "${name}"`;
  }
  if (e.keyword === 'required') {
    return `${String((e.params as { missingProperty?: unknown }).missingProperty)} is required`;
  }
  return `${field} ${e.message ?? 'is invalid'}`;
}
