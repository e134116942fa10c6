// The report as an operator reads it: one line per check with ✔ / ✘ (– for a check this configuration
// does not need) and, under a failure, the fix.
import type { PreflightReport } from './types.js';

const MARK = { pass: '✔', fail: '✘', skip: '–' } as const;

export function formatReport(report: PreflightReport): string[] {
  const lines = [
    `offboard preflight — ${report.mode} mode, tenant ${report.tenantId ?? '(unset)'}, ${report.graphBaseUrl}`,
    `needs: ${report.required.join(', ')}`,
  ];
  for (const c of report.checks) {
    lines.push(`${MARK[c.status]} ${c.id.padEnd(17)} ${c.detail}`);
    if (c.status === 'fail' && c.fix) lines.push(`  ${' '.repeat(17)} fix: ${c.fix}`);
  }
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  lines.push(
    report.ok
      ? 'ready: every needed check passed'
      : `NOT ready: ${failed} check(s) failed — fix them and run offboard preflight again`,
  );
  return lines;
}
