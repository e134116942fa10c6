// `offboard policy check FILE` lints a device policy file and prints its rules as a table (exit 0),
// or every problem (exit 2). `offboard policy explain --user X` reads that leaver's devices
// (read-only, read budget) and prints what the configured policy would do to each one.
import type { Command } from 'commander';
import { DevicePolicyError } from '../../device-policy/errors.js';
import { readDevicePolicy } from '../../device-policy/load.js';
import { UnknownProfileError } from '../../device-policy/plan.js';
import type { DevicePolicy } from '../../device-policy/types.js';
import { createTokenProvider } from '../../entra/provider.js';
import { createLogger } from '../../log.js';
import { createRedis } from '../../redis/connection.js';
import { InvalidUserError, normaliseUser } from '../../values/user.js';
import { CommandFailedError, UsageError } from '../errors.js';
import { escapeText, safe } from '../escape.js';
import { type Explanation, explainUser } from '../policy-explain.js';
import { policyForOutput, rulesTable, stepsText, table } from '../policy-table.js';
import { action, actor, config, printJson } from '../run.js';

interface CheckOptions {
  json?: boolean;
}

interface ExplainOptions {
  user: string;
  devicePolicy?: string;
  file?: string;
  json?: boolean;
  as?: string;
}

/** Every problem of a policy file, one per line (a ConfigError's message would be one escaped line). */
function printProblems(file: string, issues: string[]): void {
  const n = issues.length;
  process.stderr.write(
    safe`offboard: device policy ${file} is invalid (${n} problem${n === 1 ? '' : 's'}):\n`,
  );
  for (const issue of issues) process.stderr.write(`  - ${escapeText(issue)}\n`);
}

function check(file: string, opts: CheckOptions): void {
  const { policy, issues } = readDevicePolicy(file);
  if (!policy) {
    if (opts.json) printJson({ ok: false, source: file, issues });
    else printProblems(file, issues);
    process.exitCode = 2;
    return;
  }
  const shown = policyForOutput(policy);
  if (opts.json) {
    printJson({ ok: true, source: file, default: shown.default, profiles: shown.profiles });
    return;
  }
  const profiles = Object.keys(policy.profiles).length;
  process.stdout.write(
    safe`${file}: valid, ${profiles} profile${profiles === 1 ? '' : 's'}, default "${policy.default}"\n\n`,
  );
  process.stdout.write(`${rulesTable(shown).join('\n')}\n`);
}

function printExplanation(e: Explanation): void {
  const n = e.devices.length;
  process.stdout.write(
    safe`${e.user}: ${n} device${n === 1 ? '' : 's'} under profile "${e.profile}"${e.source ? ` of ${e.source}` : ''}\n`,
  );
  if (n > 0) {
    const rows = e.devices.map((d) => [
      d.deviceName ?? d.deviceId,
      d.operatingSystem ?? '-',
      d.managedDeviceOwnerType ?? '-',
      d.deviceEnrollmentType ?? '-',
      d.isSupervised === null ? '-' : d.isSupervised ? 'yes' : 'no',
      String(d.rule),
      stepsText(d.actions),
    ]);
    const header = ['device', 'os', 'owner', 'enrollment', 'supervised', 'rule', 'actions'];
    process.stdout.write(`\n${table(header, rows).join('\n')}\n`);
  }
  process.stdout.write('\nNothing was sent to Intune: explain only reads.\n');
}

async function explain(opts: ExplainOptions): Promise<void> {
  let user: string;
  try {
    user = normaliseUser(opts.user);
  } catch (err) {
    if (err instanceof InvalidUserError) throw new UsageError(`--user: ${err.message}`);
    throw err;
  }
  const who = actor(opts.as);
  const cfg = config({ needAuth: true });
  let policy: DevicePolicy | undefined = cfg.devicePolicy;
  if (opts.file !== undefined) {
    const read = readDevicePolicy(opts.file);
    if (!read.policy) {
      // --json: the error line names every issue (code `config`); text: one problem per line.
      if (opts.json) throw new DevicePolicyError(opts.file, read.issues);
      printProblems(opts.file, read.issues);
      process.exitCode = 2;
      return;
    }
    policy = read.policy;
  }
  if (!policy) {
    throw new UsageError('no device policy: set DEVICE_POLICY_FILE, or pass --file FILE');
  }
  const logger = createLogger({ level: cfg.logLevel, destination: 2 });
  const redis = createRedis(cfg.redis, { name: 'offboard-policy-explain' });
  redis.on('error', () => {});
  let provider: ReturnType<typeof createTokenProvider> | undefined;
  try {
    try {
      await redis.ping();
    } catch {
      throw new CommandFailedError('Redis is unreachable (reads are paced through it)');
    }
    provider = createTokenProvider(cfg, { redis, logger });
    const result = await explainUser(
      { config: cfg, redis, tokenProvider: provider, actor: who },
      policy,
      user,
      opts.devicePolicy,
    );
    if (opts.json) printJson(result);
    else printExplanation(result);
  } catch (err) {
    if (err instanceof UnknownProfileError) throw new UsageError(`--device-policy: ${err.message}`);
    throw err;
  } finally {
    await provider?.close?.().catch(() => {});
    redis.disconnect();
    logger.flush();
  }
}

export function configure(cmd: Command): void {
  cmd.addHelpText(
    'after',
    `
A device policy (DEVICE_POLICY_FILE) decides per device: retire, wipe, delete, autopilot-deregister
or none. Rules are numbered from 1; the first rule whose match fits a device wins.`,
  );
  cmd
    .command('check')
    .description('Lint a device policy file and print its rules as a table')
    .argument('<file>', 'the policy file (YAML, or JSON when it ends in .json)')
    .option('--json', 'print the rules (or the problems) as JSON')
    .addHelpText(
      'after',
      `
Exit codes: 0 the file is valid, 2 it is not (every problem is printed, each with its path, e.g.
profiles.standard.rules[2].actions: …).

Examples:
  offboard policy check deploy/device-policy.example.yaml
  offboard policy check policy.json --json`,
    )
    .action(action((file: string, opts: CheckOptions) => check(file, opts)));
  cmd
    .command('explain')
    .description("Read a leaver's devices (read-only) and print what the device policy would do to each")
    .requiredOption('--user <upn|id>', 'the leaver')
    .option('--device-policy <profile>', "the profile (default: the policy file's default)")
    .option('--file <file>', 'a policy file to try instead of DEVICE_POLICY_FILE')
    .option('--as <name>', 'who is looking (default: your OS user name); audited as planned')
    .option('--json', 'print the devices and their plans as JSON')
    .addHelpText(
      'after',
      `
Sends only GETs to Graph (the inventory read, through the read pacer); nothing is queued or sent to
Intune. Exit 0 on success, 1 when the read failed, 2 for a usage or configuration error.

Examples:
  offboard policy explain --user leaver@contoso.com
  offboard policy explain --user leaver@contoso.com --device-policy dispose --json`,
    )
    .action(action((opts: ExplainOptions) => explain(opts)));
}
