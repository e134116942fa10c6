// One device's plan in words, the same on every surface that shows devices × actions (the CLI's
// plans and `batches show`, the console's Check and batch pages): which device, which rule, what
// will be done to it, in order.
import type { DeviceActionStep, DevicePlan } from '../interfaces.js';

/** "LAPTOP-7 (Windows, company)"; the id when the device has no name. */
export function deviceLabel(p: DevicePlan): string {
  const facts = [p.operatingSystem, p.managedDeviceOwnerType].filter((x): x is string => !!x);
  return `${p.deviceName || p.deviceId}${facts.length ? ` (${facts.join(', ')})` : ''}`;
}

function stepText(s: DeviceActionStep): string {
  if (s.action !== 'wipe') return s.action;
  const opts = Object.entries(s.wipe ?? {})
    // macOsUnlockCode is a secret of sorts: said to be set, never shown.
    .map(([k, v]) => (k === 'macOsUnlockCode' ? `${k}=set` : `${k}=${String(v)}`));
  if (s.captureActivationLockBypass) opts.unshift('read Activation Lock bypass code first');
  return opts.length ? `wipe (${opts.join(', ')})` : 'wipe';
}

/** "wipe (keepUserData=false), delete, autopilot-deregister", or "none". */
export function actionsText(p: DevicePlan): string {
  return p.actions.length ? p.actions.map(stepText).join(', ') : 'none';
}

/** "standard#2". */
export function ruleText(p: DevicePlan): string {
  return `${p.profile}#${p.rule}`;
}

/** A plan's leaver: a heading line, then one line per device (indented). */
export function leaverPlanLines(p: {
  user: string;
  profile: string;
  devices?: DevicePlan[];
  error?: string;
}): string[] {
  if (!p.devices)
    return [`${p.user} (device policy ${p.profile}): devices not read: ${p.error ?? 'unknown'}`];
  const head = `${p.user} (device policy ${p.profile}): ${p.devices.length} device(s)`;
  return [head, ...p.devices.map((d) => `  ${deviceLabel(d)}  ${ruleText(d)}: ${actionsText(d)}`)];
}

/** Said when a plan left leavers out of its device reads. */
export function omittedText(omitted: number, max: number): string {
  return `devices not read for ${omitted} more new leaver(s): a plan reads at most ${max}`;
}
