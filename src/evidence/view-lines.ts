// A device's policy actions as the text lines `offboard status` prints under the device (the demo's
// report uses them too): one line per action with what was sent, Graph's answer and what the reads proved.
import type { DeviceEvidence } from './view.js';

export function deviceActionLines(
  d: Pick<DeviceEvidence, 'policy' | 'actions'>,
  indent = '            ',
): string[] {
  if (!d.actions) return [];
  if (d.actions.length === 0) {
    return [`${indent}no action (profile ${d.policy?.profile ?? '-'} rule ${d.policy?.rule ?? '-'})`];
  }
  return d.actions.map((a) => {
    const sent = a.at ? ` ${a.at}` : '';
    const http = a.status !== null ? ` HTTP ${a.status}` : '';
    const rid = a.requestId ? ` request-id ${a.requestId}` : '';
    const why = a.graphCode ? ` (${a.graphCode})` : '';
    const proof = a.verification
      ? ` → ${a.verification.result}${a.verification.note ? ` (${a.verification.note})` : ''}`
      : '';
    return `${indent}${a.action.padEnd(21)} ${a.state}${http}${why}${sent}${rid}${proof}`;
  });
}
