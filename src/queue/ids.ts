// Which strings may be used as job, dead-letter and batch ids. BullMQ builds a job's Redis key as
// `<prefix>:<queue>:<id>`, next to the queue's own keys (`…:events` is a stream, `…:wait` a list,
// `…:de:<user>` the deduplication keys): an id with a `:` or equal to one of those names would read
// another structure (500 WRONGTYPE) or worse. Every boundary (API routes, CLI) checks ids with this.

/** The single-segment key names BullMQ keeps beside job hashes in a queue's key space. */
export const RESERVED_IDS = [
  'active',
  'wait',
  'waiting-children',
  'paused',
  'id',
  'delayed',
  'prioritized',
  'stalled-check',
  'completed',
  'failed',
  'stalled',
  'repeat',
  'limiter',
  'meta',
  'events',
  'pc',
  'marker',
  'de',
  'metrics',
] as const;

/**
 * Letters, digits, `_` and `-` (no `:`, `.`, `/` or `%`), 1–128 characters, not a reserved name.
 * Our own ids are UUIDs (`dl-<uuid>` for dead letters); this also admits older or operator-chosen ids.
 */
export const ID_PATTERN = `^(?!(?:${RESERVED_IDS.join('|')})$)[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`;

const ID = new RegExp(ID_PATTERN);

export function isValidId(id: unknown): id is string {
  return typeof id === 'string' && ID.test(id);
}
