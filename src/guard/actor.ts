// Actor names as the two-person rule and the per-key held caps compare them. `--as Alice` and
// `--as alice` (or a full-width "ａｌｉｃｅ") are the same person to a human reader of the audit,
// so they must be the same person to the guard: trimmed, NFKC-folded, lower-cased.
export function normaliseActor(name: string): string {
  return name.normalize('NFKC').trim().toLowerCase();
}

/** True when two actor names denote the same person for the guard. */
export function sameActor(a: string, b: string): boolean {
  return normaliseActor(a) === normaliseActor(b);
}
