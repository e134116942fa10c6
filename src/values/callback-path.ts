// The Lifecycle Workflows callback a request may carry: the `callbackUriPath` Entra hands its custom
// task extension. offboard later POSTs to `{GRAPH_BASE_URL}{callbackUriPath}` with its own Graph
// token, so only exactly this shape is accepted — a path on Graph, never a URL, no query, no dot
// segments, no encoded characters — and the ids must be GUIDs. Anything else could point the token
// somewhere else on Graph.

import type { RetireJobData } from '../interfaces.js';

const GUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

/** The whole accepted shape, also used as the API's JSON Schema pattern. */
export const CALLBACK_PATH_PATTERN =
  `^/identityGovernance/lifecycleWorkflows/workflows/${GUID}/tasks/${GUID}` +
  `/taskProcessingResults/${GUID}/microsoft\\.graph\\.identityGovernance\\.resume$`;

const CALLBACK_PATH = new RegExp(CALLBACK_PATH_PATTERN);

/** Longest accepted path (the shape is fixed: 229 characters; a little room, never kilobytes). */
export const CALLBACK_PATH_MAX = 256;

export class InvalidCallbackPathError extends Error {
  override readonly name = 'InvalidCallbackPathError';
  constructor() {
    super(
      'callbackUriPath must be exactly /identityGovernance/lifecycleWorkflows/workflows/{id}/tasks/{id}/' +
        'taskProcessingResults/{id}/microsoft.graph.identityGovernance.resume with GUID ids (a path, not a URL)',
    );
  }
}

export function isCallbackPath(value: unknown): value is string {
  return typeof value === 'string' && value.length <= CALLBACK_PATH_MAX && CALLBACK_PATH.test(value);
}

/** Returns the path as given, or throws InvalidCallbackPathError. */
export function parseCallbackPath(value: unknown): string {
  if (!isCallbackPath(value)) throw new InvalidCallbackPathError();
  return value;
}

/**
 * Callbacks one job keeps: its own and those duplicates attached (several Lifecycle Workflows, or a
 * rerun, waiting on one leaver). Bounded so a producer cannot grow a job without limit.
 */
export const MAX_CALLBACKS_PER_JOB = 10;

/** Every valid callback path of a job, first one first, without repeats (bad entries are skipped). */
export function callbackPaths(
  data: Partial<Pick<RetireJobData, 'callbackUriPath' | 'callbackUriPaths'>> | undefined,
): string[] {
  const all = [
    data?.callbackUriPath,
    ...(Array.isArray(data?.callbackUriPaths) ? data.callbackUriPaths : []),
  ];
  return [...new Set(all.filter(isCallbackPath))].slice(0, MAX_CALLBACKS_PER_JOB);
}
