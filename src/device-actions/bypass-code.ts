// The Activation Lock bypass code of a supervised Apple device, read alone (Graph returns it only when
// selected by name) on the read budget right before its wipe, and kept encrypted (secrets.ts).
import { GraphError } from '../graph/errors.js';
import { activationLockBypassRequest } from '../graph/requests.js';
import { type ActionRun, type CallDeps, read } from './calls.js';
import { hasBypassCode, storeBypassCode } from './secrets.js';

/**
 * The Activation Lock bypass code, read right before the wipe and kept encrypted. A read that fails or
 * answers no code does not hold the wipe back (the leaver's data leaving is the point; Apple Business
 * Manager can still release a supervised device): the result says so, and so does the audit.
 */
export async function captureBypassCode(deps: CallDeps, run: ActionRun, deviceId: string): Promise<string> {
  const { redis, prefix, config } = deps.ctx;
  const jobId = run.job.id ?? '';
  if (await hasBypassCode(redis, prefix, { jobId, deviceId })) return 'activation lock bypass code kept';
  const key = config.evidence.key;
  if (!key) return 'activation lock bypass code not read: EVIDENCE_KEY is not set';
  try {
    const page = await read<never>(deps, run, activationLockBypassRequest(deviceId), {
      deviceId,
      action: 'wipe',
      step: 'bypass-code',
    });
    const code = (page.body as { activationLockBypassCode?: unknown }).activationLockBypassCode;
    if (typeof code !== 'string' || code === '') return 'no activation lock bypass code returned';
    await storeBypassCode(redis, prefix, { jobId, deviceId }, code, key, config.evidence.retentionMs);
    return 'activation lock bypass code kept';
  } catch (err) {
    if (!(err instanceof GraphError) || err.status === null) throw err;
    return `activation lock bypass code not read (${err.status})`;
  }
}
