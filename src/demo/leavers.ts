// The demo's seeded leavers: a mix that exercises every row of the failure table. The simulator
// picks each user's behaviour from the UPN prefix (see src/sim), so the outcome is predictable.
import type { OffboardRequest } from '../intake/enqueue.js';

export interface DemoLeaver extends OffboardRequest {
  /** What the demo expects to happen, printed next to what did happen. */
  expect: string;
}

const DOMAIN = 'contoso.com';

export function demoLeavers(count = 30): DemoLeaver[] {
  const out: DemoLeaver[] = [];
  const special: DemoLeaver[] = [
    { user: `throttle-ana@${DOMAIN}`, expect: 'retired after a 429 with Retry-After' },
    { user: `throttle-ben@${DOMAIN}`, expect: 'retired after a 429 with Retry-After' },
    { user: `flaky-cem@${DOMAIN}`, expect: 'retired after two 503s' },
    { user: `flaky-dua@${DOMAIN}`, expect: 'retired after two 503s' },
    { user: `notfound-eli@${DOMAIN}`, expect: 'dead letter: not_found' },
    { user: `notfound-fay@${DOMAIN}`, expect: 'dead letter: not_found' },
    { user: `forbidden-gus@${DOMAIN}`, expect: 'dead letter: forbidden' },
    { user: `badrequest-hal@${DOMAIN}`, expect: 'dead letter: bad_request' },
    { user: `dryrun-ivy@${DOMAIN}`, dryRun: true, expect: 'dry_run (no Graph call)' },
    {
      user: `later-jon@${DOMAIN}`,
      effectiveAt: new Date(Date.now() + 5000).toISOString(),
      expect: 'retired at its leave date (5 s after start)',
    },
  ];
  out.push(...special);
  for (let i = 1; out.length < Math.max(count, special.length); i++) {
    out.push({ user: `leaver${String(i).padStart(3, '0')}@${DOMAIN}`, reason: 'demo', expect: 'retired' });
  }
  return out;
}
