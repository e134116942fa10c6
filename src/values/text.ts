// Free text that ends up in records, the audit and terminal output: what is refused and how it is
// shown. A newline in a reason could forge a row in `offboard batches show`; a bidi override could
// make a printed name read as another. So: no control characters at all (tab and newline
// included), no invisible or direction-changing characters.

/** Characters refused in every free-text field (reason, note, correlation id, actor names). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/;

/** The same set as a JSON-schema `pattern` (the whole string must be free of them). */
export const FREE_TEXT_PATTERN =
  '^[^\\u0000-\\u001f\\u007f-\\u009f\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u206f\\ufeff]*$';

export function hasControlChars(text: string): boolean {
  return CONTROL_CHARS.test(text);
}
