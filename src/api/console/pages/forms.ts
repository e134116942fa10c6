// Form bodies: JSON Schema like every API route (additionalProperties false), plus the CSRF token
// the console's hook has already checked. Text fields refuse control and invisible characters.
import { reasonBody } from '../../schemas/common.js';

export const NOTE = reasonBody.properties.reason;

export function formBody(properties: Record<string, object>, required: string[] = []) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['_csrf', ...required],
    properties: { _csrf: { type: 'string', maxLength: 128 }, ...properties },
  } as const;
}

/** Optional text: an empty field means "not given". */
export function text(value: string | undefined): string | undefined {
  const t = value?.trim();
  return t ? t : undefined;
}
