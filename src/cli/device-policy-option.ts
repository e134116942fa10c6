// The CLI's `--device-policy <profile>` (enqueue, import): one profile for the whole command, checked
// against DEVICE_POLICY_FILE before anything is read or written. The CLI acts with an operator's
// rights (whoever reaches Redis can do anything), so any profile of the policy may be named.
import { checkCommandProfile } from '../front-door/device-policy.js';
import { InvalidRequestError } from '../intake/validate.js';
import type { QueueContext } from '../queue/context.js';
import { UsageError } from './errors.js';

/** A wrong `--device-policy` is a usage error (exit 2), found before anything is read or written. */
export function usageOnBadProfile(ctx: QueueContext, profile: string | undefined): void {
  try {
    checkCommandProfile(ctx, profile);
  } catch (err) {
    if (err instanceof InvalidRequestError) throw new UsageError(`--device-policy: ${err.message}`);
    throw err;
  }
}
