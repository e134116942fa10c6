// Runs the built CLI (`node dist/cli.js …`) as a child process and collects exit code and output.
import { spawn } from 'node:child_process';
import { CLI } from '../helpers/processes.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Minimal environment: the product's config comes only from `env` (never the test runner's). */
export function cliEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = { LOG_LEVEL: 'silent' };
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && (/^(PATH|HOME|TMPDIR|LANG|USER)$/.test(k) || k.startsWith('NODE_'))) out[k] = v;
  }
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

/**
 * Other test runs in the same checkout rebuild dist/ (vitest global setup) while this one runs; a
 * CLI started mid-rebuild fails to load its modules. That is a property of the shared checkout,
 * not of the product: such a start is retried, nothing else is.
 */
export const HALF_BUILT =
  /SyntaxError: The requested module|ERR_MODULE_NOT_FOUND|SyntaxError: Unexpected end of input/;

export async function runCli(
  args: string[],
  env: Record<string, string | undefined>,
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  for (let attempt = 1; ; attempt++) {
    const r = await runOnce(args, env, opts);
    if (r.code === 0 || !HALF_BUILT.test(r.stderr) || attempt >= 5) return r;
    await new Promise((res) => setTimeout(res, 3000));
  }
}

function runOnce(
  args: string[],
  env: Record<string, string | undefined>,
  opts: { input?: string; timeoutMs?: number },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: cliEnv(env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `offboard ${args.join(' ')} did not exit within ${opts.timeoutMs ?? 120_000} ms\n${stderr}`,
        ),
      );
    }, opts.timeoutMs ?? 120_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Parses stdout as JSON, with the output in the error when it is not. */
export function json<T = unknown>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the CLI with a terminal for its standard streams (util-linux `script` allocates a pty), as a
 * person at a shell would: stderr.isTTY is true, so progress bars are drawn. stdout and stderr arrive
 * together on the one terminal (`output`; line ends are \r\n there).
 */
export async function runCliTty(
  args: string[],
  env: Record<string, string | undefined>,
  opts: { timeoutMs?: number } = {},
): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, CLI, ...args].map(shellQuote).join(' ');
  for (let attempt = 1; ; attempt++) {
    const r = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn('script', ['-qefc', command, '/dev/null'], {
        env: cliEnv(env),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => {
        output += d.toString('utf8');
      });
      child.stderr.on('data', (d: Buffer) => {
        output += d.toString('utf8');
      });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`offboard ${args.join(' ')} (tty) did not exit in time\n${output}`));
      }, opts.timeoutMs ?? 120_000);
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, output });
      });
      child.stdin.end();
    });
    if (r.code === 0 || !HALF_BUILT.test(r.output) || attempt >= 5) return r;
    await new Promise((res) => setTimeout(res, 3000));
  }
}
