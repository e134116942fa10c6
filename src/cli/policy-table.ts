// A policy's rules and plans as people read them: the text of a rule's match, actions and options,
// and a plain column table. `offboard policy check` prints the rules, `policy explain` the plans.
// Values come from a file or from Graph: every cell is escaped before it reaches a terminal.
import type { DevicePolicy, PolicyMatch, PolicyRule } from '../device-policy/types.js';
import type { DeviceActionStep, WipeOptions } from '../interfaces.js';
import { escapeText } from './escape.js';

/** `ownerType=company os=iOS|iPadOS supervised=true`, or `(every device)` for `{}`. */
export function matchText(m: PolicyMatch): string {
  const parts = Object.entries(m).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('|') : String(v)}`);
  return parts.length > 0 ? parts.join(' ') : '(every device)';
}

/** A wipe's options with the macOS unlock code hidden: it unlocks a device, it is not for screens. */
export function wipeText(w: WipeOptions | undefined): string[] {
  if (!w) return [];
  return Object.entries(w).map(([k, v]) => (k === 'macOsUnlockCode' ? `${k}=***` : `${k}=${String(v)}`));
}

export function optionsText(r: PolicyRule): string {
  const out = wipeText(r.wipe);
  if (r.captureActivationLockBypass) out.push('captureActivationLockBypass');
  if (r.allowPersonalWipe) out.push('allowPersonalWipe');
  return out.join(' ') || '-';
}

/** `wipe (keepUserData=false) → delete`, or `none`. */
export function stepsText(steps: readonly DeviceActionStep[]): string {
  if (steps.length === 0) return 'none';
  return steps
    .map((s) => {
      const opts = wipeText(s.wipe);
      if (s.captureActivationLockBypass) opts.unshift('read bypass code first');
      return opts.length > 0 ? `${s.action} (${opts.join(', ')})` : s.action;
    })
    .join(' → ');
}

/** Rows of a plain table, columns padded to their widest cell; every cell escaped. */
export function table(header: string[], rows: string[][]): string[] {
  const cells = [header, ...rows].map((r) => r.map((c) => escapeText(c)));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** The rules of every profile: profile, #, match, actions, options (the default profile marked). */
export function rulesTable(policy: DevicePolicy): string[] {
  const rows: string[][] = [];
  for (const [name, profile] of Object.entries(policy.profiles)) {
    profile.rules.forEach((r, i) => {
      rows.push([
        i === 0 ? `${name}${name === policy.default ? ' (default)' : ''}` : '',
        String(i + 1),
        matchText(r.match),
        r.actions.join(' → '),
        optionsText(r),
      ]);
    });
  }
  return table(['profile', '#', 'match', 'actions', 'options'], rows);
}

/** The policy as JSON output shows it: the macOS unlock codes hidden. */
export function policyForOutput(policy: DevicePolicy): DevicePolicy {
  const profiles = Object.fromEntries(
    Object.entries(policy.profiles).map(([name, p]) => [
      name,
      {
        rules: p.rules.map((r) =>
          r.wipe?.macOsUnlockCode === undefined ? r : { ...r, wipe: { ...r.wipe, macOsUnlockCode: '***' } },
        ),
      },
    ]),
  );
  return { ...policy, profiles };
}
