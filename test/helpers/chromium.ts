// The Chromium the browser tests drive (Debian `chromium`, or OFFBOARD_CHROMIUM). `npm test` makes sure
// it is there before vitest starts; a browser test run directly (`npx vitest run test/api/browser.test.ts`)
// goes through the same script here, so it installs it too (root) or fails with its one-line reason.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CHROMIUM = process.env.OFFBOARD_CHROMIUM || '/usr/bin/chromium';

const SCRIPT = fileURLToPath(new URL('../../scripts/ensure-system-deps.mjs', import.meta.url));

export function ensureChromium(): string {
  const r = spawnSync(process.execPath, [SCRIPT, 'chromium'], { encoding: 'utf8', stdio: 'pipe' });
  if (r.status !== 0) throw new Error((r.stderr || r.stdout).trim() || 'Chromium is not installed');
  return CHROMIUM;
}
