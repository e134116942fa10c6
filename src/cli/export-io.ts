// What the CLI's export commands (`audit export`, `evidence`) share: the time bounds they take, and
// an output file that is created, never overwritten, and written with back-pressure.
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { parseDuration } from '../config/parse.js';
import { CommandFailedError, UsageError } from './errors.js';

/** `2026-12-01`, an ISO 8601 instant, or a duration back from now (`24h`, `7d`). */
export function parseInstant(text: string, flag: string, now = Date.now()): number {
  const back = parseDuration(text);
  if (back !== null) return now - back;
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return Date.parse(`${text}T00:00:00Z`);
  if (/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})$/.test(text) && Number.isFinite(Date.parse(text))) {
    return Date.parse(text);
  }
  throw new UsageError(
    `${flag} must be a date (2026-12-01, UTC), an ISO 8601 instant with offset, or a duration back from now (24h, 7d)`,
  );
}

/** `--out FILE` as a new file (an existing one is never overwritten), else standard output. */
export async function outputStream(path: string | undefined): Promise<Writable> {
  if (path === undefined) return process.stdout;
  let fd: Awaited<ReturnType<typeof open>>;
  try {
    fd = await open(path, 'wx');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CommandFailedError(
      code === 'EEXIST' ? `${path} exists; not overwriting it` : `cannot create ${path}: ${code ?? err}`,
    );
  }
  return createWriteStream('', { fd });
}

/** Writes and waits for 'drain' when the stream asks to: a large export never piles up in memory. */
export async function writeChunk(stream: Writable, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await new Promise((r) => stream.once('drain', r));
}
