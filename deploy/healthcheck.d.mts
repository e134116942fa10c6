// Types for deploy/healthcheck.mjs (plain JavaScript so the image runs it without a build step).

/** `api`, `worker` or `other` from a NUL-separated command line such as /proc/1/cmdline. */
export function detectRole(cmdline: string): 'api' | 'worker' | 'other';
/** `500ms`, `60s`, `2m` or a bare number of seconds → milliseconds; null when malformed. */
export function parseMaxAge(text: string | undefined): number | null;
/** Runs the check and returns the exit code (0 healthy, 1 unhealthy, 2 usage). */
export function main(argv?: string[], env?: Record<string, string | undefined>): Promise<number>;
