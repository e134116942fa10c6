// The demo's seeded leavers: a mix that exercises every row of the failure table. The simulator
// picks each user's behaviour from the UPN prefix (see src/sim), so the outcome is predictable; each
// leaver's managed devices are set explicitly so the evidence (devices before and after) is too.
import type { OffboardRequest } from '../intake/enqueue.js';

export interface DemoLeaver extends OffboardRequest {
  /** What the demo expects to happen, printed next to what did happen. */
  expect: string;
  /** The outcome it must end with (a Row's `outcome`): any other fails the demo (exit 1). */
  outcome: string;
  /** Managed devices the simulator gives this leaver (0: outcome no_devices, no POST). */
  devices: number;
}

const DOMAIN = 'contoso.com';

export function demoLeavers(count = 30): DemoLeaver[] {
  const out: DemoLeaver[] = [];
  const special: DemoLeaver[] = [
    {
      user: `throttle-ana@${DOMAIN}`,
      devices: 2,
      expect: 'retired after a 429 with Retry-After',
      outcome: 'retired',
    },
    {
      user: `throttle-ben@${DOMAIN}`,
      devices: 1,
      expect: 'retired after a 429 with Retry-After',
      outcome: 'retired',
    },
    { user: `flaky-cem@${DOMAIN}`, devices: 1, expect: 'retired after two 503s', outcome: 'retired' },
    { user: `flaky-dua@${DOMAIN}`, devices: 2, expect: 'retired after two 503s', outcome: 'retired' },
    {
      user: `notfound-eli@${DOMAIN}`,
      devices: 1,
      expect: 'dead letter: not_found',
      outcome: 'dead letter: not_found',
    },
    {
      user: `notfound-fay@${DOMAIN}`,
      devices: 1,
      expect: 'dead letter: not_found',
      outcome: 'dead letter: not_found',
    },
    {
      user: `forbidden-gus@${DOMAIN}`,
      devices: 1,
      expect: 'dead letter: forbidden',
      outcome: 'dead letter: forbidden',
    },
    {
      user: `badrequest-hal@${DOMAIN}`,
      devices: 1,
      expect: 'dead letter: bad_request',
      outcome: 'dead letter: bad_request',
    },
    {
      user: `dryrun-ivy@${DOMAIN}`,
      devices: 2,
      dryRun: true,
      expect: 'dry_run (devices read, no POST)',
      outcome: 'dry_run',
    },
    {
      user: `later-jon@${DOMAIN}`,
      devices: 1,
      effectiveAt: new Date(Date.now() + 5000).toISOString(),
      expect: 'retired at its leave date (5 s after start)',
      outcome: 'retired',
    },
    {
      user: `nodevices-kim@${DOMAIN}`,
      devices: 0,
      expect: 'no_devices (no POST sent)',
      outcome: 'no_devices',
    },
    {
      user: `nocheckin-lou@${DOMAIN}`,
      devices: 2,
      expect: 'retired; unverified (never check in)',
      outcome: 'retired',
    },
    {
      user: `retirefail-max@${DOMAIN}`,
      devices: 1,
      expect: 'retired; unverified (retireFailed)',
      outcome: 'retired',
    },
  ];
  out.push(...special);
  for (let i = 1; out.length < Math.max(count, special.length); i++) {
    const devices = i % 5 === 0 ? 0 : 1 + (i % 3);
    out.push({
      user: `leaver${String(i).padStart(3, '0')}@${DOMAIN}`,
      reason: 'demo',
      devices,
      expect: devices === 0 ? 'no_devices (no POST sent)' : 'retired; verified',
      outcome: devices === 0 ? 'no_devices' : 'retired',
    });
  }
  return out;
}
