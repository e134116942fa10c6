// The Graph calls per minute chart, drawn on the server as SVG: stacked bars by outcome class and
// a dashed line at the configured limit. No script, so nothing to load and nothing for the CSP to
// allow; the same numbers are offered as a table for screen readers and copy-paste.
import { CALL_CLASSES, type CallClass, type MinuteRow, totalCalls } from '../../records/minute-counters.js';
import { type Html, html, join } from './html.js';

export const CLASS_LABELS: Record<CallClass, string> = {
  ok: '2xx (done)',
  throttled: '429 throttled',
  server_error: '5xx',
  client_error: 'other 4xx',
  timeout: 'timeout',
  network: 'network error',
};

const COLOURS: Record<CallClass, string> = {
  ok: '#2da44e',
  throttled: '#bf8700',
  server_error: '#cf222e',
  client_error: '#8250df',
  timeout: '#57606a',
  network: '#0969da',
};

const W = 960;
const H = 260;
const PAD = { left: 48, right: 12, top: 12, bottom: 28 };

function niceMax(n: number): number {
  if (n <= 10) return 10;
  const step = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= n) return m * step;
  return 10 * step;
}

function hhmm(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}

export function callsChart(rows: MinuteRow[], limitPerMinute: number): Html {
  const totals = rows.map(totalCalls);
  const peak = Math.max(0, ...totals);
  const max = niceMax(Math.max(peak, Math.min(limitPerMinute, peak * 1.5 || 10)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const bw = plotW / Math.max(1, rows.length);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const bars: Html[] = [];
  rows.forEach((row, i) => {
    let base = 0;
    for (const c of CALL_CLASSES) {
      const n = row.counts[c];
      if (n <= 0) continue;
      const top = y(base + n);
      const h = y(base) - top;
      bars.push(
        html`<rect x="${(PAD.left + i * bw).toFixed(2)}" y="${top.toFixed(2)}" width="${Math.max(0.5, bw - 0.6).toFixed(2)}" height="${h.toFixed(2)}" fill="${COLOURS[c]}"></rect>`,
      );
      base += n;
    }
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const v = Math.round(max * f);
    return html`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#eaeef2"></line><text x="${PAD.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#57606a">${v}</text>`;
  });
  const every = Math.max(1, Math.ceil(rows.length / 8));
  const labels = rows
    .map((r, i) =>
      i % every === 0
        ? html`<text x="${(PAD.left + i * bw).toFixed(1)}" y="${H - 8}" font-size="11" fill="#57606a">${hhmm(r.at)}</text>`
        : null,
    )
    .filter(Boolean);
  const limitLine =
    limitPerMinute > 0 && limitPerMinute <= max
      ? html`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(limitPerMinute).toFixed(1)}" y2="${y(limitPerMinute).toFixed(1)}" stroke="#1d2733" stroke-dasharray="6 4"></line><text x="${W - PAD.right - 4}" y="${(y(limitPerMinute) - 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#1d2733">limit ${Math.round(limitPerMinute)}/min</text>`
      : null;
  const sum = (c: CallClass) => rows.reduce((s, r) => s + r.counts[c], 0);
  const summary = CALL_CLASSES.map((c) => `${CLASS_LABELS[c]}: ${sum(c)}`).join(', ');
  const span =
    rows.length > 0 ? `${hhmm(rows[0]?.at ?? 0)}–${hhmm((rows.at(-1)?.at ?? 0) + 60_000)} UTC` : '';
  return html`<figure class="chart">
<svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">
<title id="chart-title">Graph calls per minute, ${span}</title>
<desc id="chart-desc">Stacked bars by outcome over ${rows.length} minutes. Totals: ${summary}. Peak ${peak} calls in one minute.</desc>
${ticks}${bars}${limitLine}${labels}
</svg>
<figcaption><ul class="legend">${CALL_CLASSES.map(
    (c) => html`<li><span class="swatch s-${c}" aria-hidden="true"></span>${CLASS_LABELS[c]}: ${sum(c)}</li>`,
  )}</ul></figcaption>
</figure>
<details><summary>Chart data (minutes with calls)</summary><div class="wrap"><table>
<thead><tr><th scope="col">minute (UTC)</th>${CALL_CLASSES.map((c) => html`<th scope="col" class="num">${CLASS_LABELS[c]}</th>`)}</tr></thead>
<tbody>${join(
    rows
      .filter((r) => totalCalls(r) > 0)
      .map(
        (r) =>
          html`<tr><td>${hhmm(r.at)}</td>${CALL_CLASSES.map((c) => html`<td class="num">${r.counts[c]}</td>`)}</tr>`,
      ),
  )}</tbody></table></div></details>`;
}
