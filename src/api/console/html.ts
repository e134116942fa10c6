// HTML by tagged templates: every interpolated value is escaped unless it is already Html (built by
// this same tag), so markup cannot come from data. Pages carry no script and no inline style: the
// console runs under a CSP without 'unsafe-inline' and without any script source at all.

const HTML = Symbol('html');

export interface Html {
  readonly [HTML]: true;
  readonly text: string;
}

function wrap(text: string): Html {
  return { [HTML]: true, text };
}

function isHtml(value: unknown): value is Html {
  return typeof value === 'object' && value !== null && HTML in value;
}

/** Escapes text for element content and double- or single-quoted attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`=]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function render(value: unknown): string {
  if (value === null || value === undefined || value === false) return '';
  if (isHtml(value)) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return esc(value);
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return wrap(out);
}

/** Joins fragments with a separator (text is escaped like any interpolation). */
export function join(parts: unknown[], separator: Html | string = ''): Html {
  return wrap(parts.map(render).join(render(separator)));
}

/** A query string from plain values (absent ones dropped), for links between console pages. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** A timestamp as people read it, in UTC, with the ISO form kept for machines and copy-paste. */
export function time(iso: string | number | null | undefined): Html {
  if (iso === null || iso === undefined || iso === '') return html`<span class="muted">–</span>`;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return html`${String(iso)}`;
  const text = `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
  return html`<time datetime="${d.toISOString()}">${text}</time>`;
}

export function toText(h: Html): string {
  return h.text;
}
