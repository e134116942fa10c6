// What the CLI prints for people is built from text others wrote (reasons, notes, user names,
// actor names, schedule sources). A newline in a reason must not forge a row in `batches show`,
// an escape sequence must not repaint the terminal, a bidi override must not reorder a line.
// Interpolated values are shown with such characters escaped (\n, \t, \x1b, \u202e); the
// command's own layout (the template's literal text) is kept. JSON output needs none of this.
import { CONTROL_CHARS } from '../values/text.js';

const GLOBAL = new RegExp(CONTROL_CHARS.source, 'gu');
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One value made safe to print: control and invisible characters as visible escapes. */
export function escapeText(value: unknown): string {
  return String(value).replace(GLOBAL, (ch) => {
    const named = NAMED[ch];
    if (named) return named;
    const code = ch.codePointAt(0) ?? 0;
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Tagged template: the literal parts are printed as written, every interpolated value escaped. */
export function safe(strings: TemplateStringsArray, ...values: unknown[]): string {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += escapeText(v) + (strings[i + 1] ?? '');
  });
  return out;
}
