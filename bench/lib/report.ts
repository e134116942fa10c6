// The Markdown table printed at the end of a run, and the figures' number formatting.
import type { Figure, Goal } from './figures.js';

export function formatValue(unit: string, v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  switch (unit) {
    case 'x':
      return v.toFixed(3);
    case '%':
      return `${v.toFixed(2)} %`;
    case 'ms':
      return `${Number.isInteger(v) ? v : v.toFixed(1)} ms`;
    case 'B':
      return `${v.toFixed(0)} B`;
    case 'jobs/s':
    case 'items/s':
      return `${v.toFixed(0)} ${unit}`;
    default:
      return `${Number.isInteger(v) ? v : v.toFixed(1)}${unit ? ` ${unit}` : ''}`;
  }
}

function goalText(unit: string, goal?: Goal): string {
  if (!goal) return '';
  const v = unit === 'B' && goal.value >= 1024 ? `${goal.value / 1024} KB` : formatValue(unit, goal.value);
  return `${goal.op === '>=' ? '≥' : '≤'} ${v}`;
}

export function markdownTable(figures: readonly Figure[]): string {
  const lines = ['| scenario | figure | median | min – max | goal | met |', '|---|---|---:|---:|---:|:---:|'];
  for (const f of figures) {
    const { median, min, max } = f.summary;
    const met = f.met === undefined ? '' : f.met ? 'yes' : '**no**';
    lines.push(
      `| ${f.scenario} | ${f.metric} | ${formatValue(f.unit, median)} | ${formatValue(f.unit, min)} – ${formatValue(f.unit, max)} | ${goalText(f.unit, f.goal)} | ${met} |`,
    );
  }
  return lines.join('\n');
}
