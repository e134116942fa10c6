// The demo's device policy part (issue 21): after the main run, one leaver with a personal iPhone, a
// company Windows laptop (with an Autopilot registration) and a company Android phone runs under the
// `dispose` profile of a demo policy file (DEVICE_POLICY_FILE) written to a temp directory, on a queue
// of its own served by one worker started with that file. The main run stays exactly what it was (one
// removeAllDevicesFromManagement per leaver); running after it, on the same simulator, the policy's
// writes never share the write budget with the main fleet's (two queues would be two pacers).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { getEvidence } from '../evidence/store.js';
import { evidenceView } from '../evidence/view.js';
import { deviceActionLines } from '../evidence/view-lines.js';
import { enqueueMany, type OffboardRequest } from '../intake/enqueue.js';
import type { EvidenceRecord, RetireRecord } from '../interfaces.js';
import { closeQueueContext, createQueueContext } from '../queue/context.js';

/** The simulator's `leaver-mixed` fixture: three devices with every v1.0 property a real record has. */
export const POLICY_LEAVER = 'leaver-mixed-demo@contoso.com';
export const POLICY_PROFILE = 'dispose';

/**
 * The README's example policy: `standard` for everyday leavers, `dispose` for a laptop leaving for good.
 * Its default is `dispose`: this queue runs the one demo leaver, and a default is the way every producer
 * (also one that cannot name a profile per request) gets a profile.
 */
export const DEMO_POLICY = `# offboard demo device policy (DEVICE_POLICY_FILE)
default: dispose
profiles:
  standard:
    rules:
      - match: { ownerType: personal }
        actions: [retire]
      - match: { ownerType: company, os: Windows }
        actions: [wipe]
        wipe: { keepEnrollmentData: false, keepUserData: false }
      - match: {}
        actions: [retire]
  dispose:
    rules:
      - match: { ownerType: company, os: Windows }
        actions: [wipe, delete, autopilot-deregister]
      - match: { ownerType: company, os: Android }
        actions: [wipe]
      - match: {}
        actions: [retire]
`;

export interface PolicyDemoResult {
  user: string;
  id: string;
  /** The leaver's outcome (`completed`, or `dead letter: partial`, …), or why there is none. */
  outcome: string;
  record?: RetireRecord;
  evidence: EvidenceRecord | null;
  policyFile: string;
}

export class PolicyDemoIncompleteError extends Error {
  override readonly name = 'PolicyDemoIncompleteError';
}

/** Runs the policy leaver to its outcome and the end of its verification; prints what happened. */
export async function runPolicyLeaver(opts: {
  env: Record<string, string>;
  cli: string;
  say: (line?: string) => void;
  timeoutMs: number;
}): Promise<PolicyDemoResult> {
  const { say } = opts;
  const dir = mkdtempSync(join(tmpdir(), 'offboard-demo-policy-'));
  const policyFile = join(dir, 'device-policy.yaml');
  writeFileSync(policyFile, DEMO_POLICY);
  const env = {
    ...opts.env,
    QUEUE_PREFIX: `${opts.env.QUEUE_PREFIX ?? 'offboard'}-devices`,
    DEVICE_POLICY_FILE: policyFile,
  };
  const config = loadConfig(env, { needAuth: true });
  const worker: ChildProcess = spawn(process.execPath, [opts.cli, 'worker'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const ctx = createQueueContext(config);
  try {
    say('');
    say(`device policy  ${policyFile} (profiles: standard, dispose), queue prefix ${env.QUEUE_PREFIX}`);
    // No `devicePolicy` on the request: the file's default (dispose) applies, as for any producer.
    const request: OffboardRequest = { user: POLICY_LEAVER, reason: 'demo: laptop leaves the company' };
    const [result] = await enqueueMany(ctx, [request], { requestedBy: 'demo', source: 'demo' });
    if (!result || result.status === 'invalid') {
      throw new PolicyDemoIncompleteError(`the policy leaver was refused: ${JSON.stringify(result)}`);
    }
    const id = result.id;
    say(
      `               ${POLICY_LEAVER} enqueued; the file's default profile ${POLICY_PROFILE} applies (job ${id})`,
    );
    const deadline = Date.now() + opts.timeoutMs;
    for (;;) {
      const [job, dl, evidence] = await Promise.all([
        ctx.retire.getJob(id),
        ctx.deadLetter.getJob(`dl-${id}`),
        getEvidence(ctx.redis, ctx.prefix, id),
      ]);
      const state = job ? await job.getState() : 'missing';
      const record = state === 'completed' ? (job?.returnvalue as RetireRecord | undefined) : undefined;
      const outcome = dl?.data ? `dead letter: ${dl.data.reason}` : (record?.outcome ?? state);
      const ended =
        dl?.data !== undefined || (record !== undefined && evidence?.verification.state !== 'pending');
      if (ended) {
        const out = { user: POLICY_LEAVER, id, outcome, evidence, policyFile, ...(record ? { record } : {}) };
        printPolicyLeaver(say, out);
        return out;
      }
      if (Date.now() > deadline) {
        throw new PolicyDemoIncompleteError(
          `the policy leaver had no outcome and verification by the deadline (${outcome})`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await closeQueueContext(ctx).catch(() => undefined);
    await new Promise((resolve) => {
      if (worker.exitCode !== null) return resolve(null);
      worker.once('exit', resolve);
      worker.kill('SIGTERM');
    });
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Each device, the rule that chose its actions, and each action with Graph's answer and its proof. */
export function printPolicyLeaver(say: (line?: string) => void, r: PolicyDemoResult): void {
  const e = r.evidence;
  const v = e?.verification;
  say(
    `               outcome ${r.outcome}; verification ${v?.state ?? '-'}${v ? ` after ${v.checks} check(s)` : ''}` +
      `; ${r.record?.attempts ?? '-'} Graph calls for the job`,
  );
  if (!e) return;
  const view = evidenceView(e);
  for (const d of view.devices) {
    say(
      `               ${String(d.deviceName ?? d.id).padEnd(24)} ${String(d.operatingSystem ?? '-').padEnd(8)} ` +
        `${String(d.managedDeviceOwnerType ?? '-').padEnd(8)} profile ${d.policy?.profile ?? '-'} rule ${d.policy?.rule ?? '-'}`,
    );
    for (const line of deviceActionLines(d, '                 ')) say(line);
  }
}
