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
