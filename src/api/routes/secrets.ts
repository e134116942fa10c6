// GET /v1/offboardings/{id}/secrets: the Activation Lock bypass codes kept (encrypted with
// EVIDENCE_KEY) for a job's supervised Apple devices. Operators only; every read is a `secret-read`
// audit entry with the key's name, written before the codes leave. Never cached.
import type { FastifyPluginAsync } from 'fastify';
import { EvidenceKeyMissingError, NoDevicePlanError, readJobSecrets } from '../../device-actions/secrets.js';
import { actorOf, OPERATOR } from '../auth/access.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { AUTH_ERRORS, errors, idParams } from '../schemas/common.js';

const secretsResult = {
  title: 'JobSecrets',
  type: 'object',
  properties: {
    jobId: { type: 'string' },
    user: { type: 'string' },
    secrets: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          deviceId: { type: 'string' },
          kind: { type: 'string', description: '`activationLockBypassCode`' },
          storedAt: { type: 'string', description: 'When the worker read and stored it (before the wipe)' },
          value: { type: 'string', description: 'The decrypted secret' },
          error: { type: 'string', description: 'Why it could not be decrypted (another EVIDENCE_KEY…)' },
        },
        required: ['deviceId', 'kind', 'storedAt'],
      },
    },
  },
  required: ['jobId', 'secrets'],
} as const;

export const secretRoutes: FastifyPluginAsync<ApiDeps> = async (app, { ctx }) => {
  app.get(
    '/v1/offboardings/:id/secrets',
    {
      config: { access: OPERATOR },
      schema: {
        summary: "A job's Activation Lock bypass codes, decrypted (operator only; audited as `secret-read`)",
        tags: ['evidence'],
        params: idParams,
        response: { 200: secretsResult, ...errors(400, ...AUTH_ERRORS, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const jobId = (request.params as { id: string }).id;
      try {
        const result = await readJobSecrets(ctx, { jobId, actor: actorOf(request), via: 'api' });
        reply.header('cache-control', 'no-store');
        return result;
      } catch (err) {
        if (err instanceof NoDevicePlanError) throw new ApiError(404, 'not_found', err.message);
        if (err instanceof EvidenceKeyMissingError)
          throw new ApiError(409, 'evidence_key_missing', err.message);
        throw err;
      }
    },
  );
};
