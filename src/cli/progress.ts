// A progress bar on standard error for long commands (import, evidence export, dlq --all), shown only
// when a person is watching: stderr is a terminal, `--no-progress` was not given, and the output is
// not `--json` (tools reading JSON errors from stderr must not get bar frames in between).
import { SingleBar } from 'cli-progress';

export interface ProgressOptions {
  /** commander's `--no-progress` sets `progress: false`. */
  progress?: boolean;
  json?: boolean;
  /** Default: process.stderr. */
  stream?: NodeJS.WriteStream;
}

export interface Progress {
  update(value: number, payload?: Record<string, unknown>): void;
  setTotal(total: number): void;
  /** Fills the bar (the work is done) and restores the cursor. */
  finish(): void;
  /** Leaves the bar where it is (the work failed) and restores the cursor; a no-op after finish. */
  stop(): void;
}

/** A started bar, or null when none should be drawn. `format` uses cli-progress tokens. */
export function startProgress(
  opts: ProgressOptions,
  total: number,
  format: string,
  payload: Record<string, unknown> = {},
): Progress | null {
  const stream = opts.stream ?? process.stderr;
  if (opts.progress === false || opts.json === true || !stream.isTTY) return null;
  const bar = new SingleBar({ stream, format, hideCursor: true, etaBuffer: 50 });
  bar.start(Math.max(total, 1), 0, payload);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    bar.stop();
  };
  return {
    update: (value, p) => {
      // An upper-bound total (filters, expired records) must not read as more than 100 %.
      if (value > bar.getTotal()) bar.setTotal(value);
      bar.update(value, p ?? {});
    },
    setTotal: (t) => bar.setTotal(Math.max(t, 1)),
    finish() {
      if (!stopped) bar.update(bar.getTotal());
      stop();
    },
    stop,
  };
}
