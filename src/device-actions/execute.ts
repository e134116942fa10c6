// Each device's actions, in the plan's order, each recorded BEFORE its call (`sending`) and after its
// answer: `done` (2xx), `gone` (404: the device or identity is already not there, which is what the
// action wanted), `failed` (a 400 for the platform, a lone 403, another 4xx: this device's own failure,
// its later actions `skipped`, the other devices go on). Systemic and transient failures (429 past the
// cap, 5xx past the retries, 401, an open circuit, shutdown) are thrown to the processor's failure
// handling as for the retire: the job goes back to the queue, its state kept. `done` and `gone` actions
// are never sent again, by a retry, a worker taking over a killed worker's job, or a redrive.
//
// A `sending` wipe or retire found on restart is not sent blindly: the device is read first (its
// managementState and deviceActionResults); a wipe/retire result, a pending state or a 404 mean
// Graph took it → `done`/`gone`; only with no trace is it sent again. A `sending` delete or Autopilot
// deregistration is simply sent again: a repeat answers 404, which counts as done.

import type { Circuit } from '../control/circuit.js';
import { permissionRefusal } from '../control/permission-refusal.js';
import { wipeOptionsFor } from '../device-policy/plan.js';
import {
  GraphBadRequestError,
  GraphError,
  GraphForbiddenError,
  GraphNotFoundError,
} from '../graph/errors.js';
import {
  deviceDeleteRequest,
  deviceReadRequest,
  deviceRetireRequest,
  deviceWipeRequest,
} from '../graph/requests.js';
import type { DeviceActionResult, DeviceActionStep, DevicePlan } from '../interfaces.js';
import { PacerHoldError } from '../pacing/pacer.js';
import { deregister } from './autopilot.js';
import { captureBypassCode } from './bypass-code.js';
import { type ActionRun, type CallDeps, read, write } from './calls.js';
import { readResultMap, resultField, writeResult } from './store.js';

export interface ExecuteDeps extends CallDeps {
  circuit: Pick<Circuit, 'recordForbidden' | 'trip'>;
}

/** Every planned device × action's result, in plan order, after running what is not done yet. */
export async function executePlan(
  deps: ExecuteDeps,
  run: ActionRun,
  plan: readonly DevicePlan[],
): Promise<DeviceActionResult[]> {
  const { redis, prefix } = deps.ctx;
  const jobId = run.job.id ?? '';
  const known = await readResultMap(redis, prefix, jobId);
  const save = (r: DeviceActionResult) => {
    known.set(resultField(r.deviceId, r.action), r);
    return writeResult(redis, prefix, jobId, r, deps.ctx.config.evidence.retentionMs);
  };
  for (const device of plan) {
    let broken: DeviceActionResult | undefined;
    for (const step of device.actions) {
      const prev = known.get(resultField(device.deviceId, step.action));
      if (prev?.state === 'done' || prev?.state === 'gone') continue;
      if (broken) {
        // A failed action is final for this job (a redrive runs it again); what follows it is skipped.
        if (prev?.state !== 'skipped') {
          await save({
            deviceId: device.deviceId,
            action: step.action,
            state: 'skipped',
            message: `not sent: ${broken.action} failed on this device`,
            at: new Date().toISOString(),
          });
        }
        continue;
      }
      if (prev?.state === 'failed' || prev?.state === 'skipped') {
        broken = prev;
        continue;
      }
      const result = await runStep(deps, run, device, step, prev, save);
      await save(result);
      await run.job.updateProgress({ ...run.progress });
      if (result.state === 'failed') broken = result;
    }
  }
  const out: DeviceActionResult[] = [];
  for (const device of plan) {
    for (const step of device.actions) {
      const r = known.get(resultField(device.deviceId, step.action));
      if (r) out.push(r);
    }
  }
  return out;
}

async function runStep(
  deps: ExecuteDeps,
  run: ActionRun,
  device: DevicePlan,
  step: DeviceActionStep,
  prev: DeviceActionResult | undefined,
  save: (r: DeviceActionResult) => Promise<void>,
): Promise<DeviceActionResult> {
  const base = { deviceId: device.deviceId, action: step.action };
  try {
    if (prev?.state === 'sending' && (step.action === 'wipe' || step.action === 'retire')) {
      const seen = await lookBeforeResend(deps, run, device.deviceId, step.action);
      if (seen) return { ...base, ...seen, at: new Date().toISOString() };
    }
    const note =
      step.action === 'wipe' && step.captureActivationLockBypass
        ? await captureBypassCode(deps, run, device.deviceId)
        : undefined;
    await save({
      ...base,
      state: 'sending',
      at: new Date().toISOString(),
      ...(note ? { message: note } : {}),
    });
    if (step.action === 'autopilot-deregister') return await deregister(deps, run, device);
    const spec =
      step.action === 'retire'
        ? deviceRetireRequest(device.deviceId)
        : step.action === 'wipe'
          ? deviceWipeRequest(device.deviceId, wipeOptionsFor(deps.ctx.config.devicePolicy, device, step))
          : deviceDeleteRequest(device.deviceId);
    const answer = await write(deps, run, spec, { ...base, step: 'send' });
    return {
      ...base,
      state: 'done',
      status: answer.status,
      ...(answer.requestId ? { requestId: answer.requestId } : {}),
      at: answer.at,
      ...(note ? { message: note } : {}),
    };
  } catch (err) {
    const own = await deviceFailure(deps, run, err);
    if (!own) throw err;
    return { ...base, ...own, at: new Date().toISOString() };
  }
}

/**
 * A Graph answer about this device alone → its result; anything else (systemic, transient, shutdown)
 * → undefined: the caller rethrows and the job's failure handling decides.
 */
async function deviceFailure(
  deps: ExecuteDeps,
  run: ActionRun,
  err: unknown,
): Promise<Pick<DeviceActionResult, 'state' | 'status' | 'requestId' | 'graphCode' | 'message'> | undefined> {
  if (!(err instanceof GraphError)) return undefined;
  const facts = {
    status: err.status ?? undefined,
    ...(err.requestId ? { requestId: err.requestId } : {}),
    ...(err.code ? { graphCode: err.code } : {}),
  };
  if (err instanceof GraphNotFoundError) return { state: 'gone', ...facts };
  if (err instanceof GraphForbiddenError) {
    // An app token without any permission, or 403 for many users at once, is the app's consent, not
    // this device: circuit, job back intact.
    const refusal = permissionRefusal(err, null);
    if (refusal) {
      await deps.circuit.trip(refusal);
      throw new PacerHoldError(`circuit open: ${refusal.code}`);
    }
    if (await deps.circuit.recordForbidden(run.data.user))
      throw new PacerHoldError('circuit open: 403 for many users (forbidden_many)');
    return { state: 'failed', ...facts, message: err.graphMessage ?? 'Graph refused the action (403)' };
  }
  if (err instanceof GraphBadRequestError) {
    return {
      state: 'failed',
      ...facts,
      message: err.graphMessage ?? `Graph refused the action (${err.status})`,
    };
  }
  return undefined;
}

interface DeviceTrace {
  managementState?: string | null;
  deviceActionResults?: { actionName?: string | null; actionState?: string | null }[] | null;
}

const PENDING: Record<'wipe' | 'retire', RegExp> = {
  wipe: /^wipe(Pending|Issued)?$/i,
  retire: /^retire(Pending|Issued)?$/i,
};

/** Whether Graph already has this wipe/retire (a restart after `sending`); undefined = no trace, send. */
async function lookBeforeResend(
  deps: ExecuteDeps,
  run: ActionRun,
  deviceId: string,
  action: 'wipe' | 'retire',
): Promise<Pick<DeviceActionResult, 'state' | 'status' | 'requestId' | 'message'> | undefined> {
  try {
    const page = await read<never>(
      deps,
      run,
      deviceReadRequest(deviceId, ['id', 'managementState', 'deviceActionResults']),
      { deviceId, action, step: 'look' },
    );
    const d = page.body as DeviceTrace;
    const inResults = (d.deviceActionResults ?? []).some((r) => r?.actionName?.toLowerCase() === action);
    if (inResults || PENDING[action].test(d.managementState ?? '')) {
      return {
        state: 'done',
        status: page.status,
        ...(page.requestId ? { requestId: page.requestId } : {}),
        message: `found ${action} already sent (managementState ${d.managementState ?? 'unknown'}); not sent again`,
      };
    }
    return undefined;
  } catch (err) {
    if (err instanceof GraphNotFoundError) {
      return { state: 'gone', status: 404, message: 'device gone when looked at after a restart' };
    }
    throw err;
  }
}
