// The error catalogue pins what every surface shows for a domain error: the API's status, code and
// details and the CLI's exit code and --json code. The values are the public ones from before the
// catalogue existed; a change here is a contract change.
import { describe, expect, it } from 'vitest';
import { toHttpError } from '../../src/api/errors.js';
import { CommandFailedError, UsageError } from '../../src/cli/errors.js';
import { jsonError } from '../../src/cli/json-error.js';
import { exitCodeFor } from '../../src/cli/run.js';
import { ConfigError } from '../../src/config/errors.js';
import { ERRORS } from '../../src/errors/catalogue.js';
import {
  BatchChangedError,
  BatchNotFoundError,
  BatchStateError,
  BatchVersionRequiredError,
  HeldLimitError,
  TwoPersonRuleError,
} from '../../src/guard/errors.js';
import { ImportFormatError } from '../../src/import/row.js';
import { JobNotCancellableError, JobNotFoundError } from '../../src/intake/cancel.js';
import { RedriveNotSettledError } from '../../src/intake/redrive.js';
import { InvalidRequestError } from '../../src/intake/validate.js';
import { DeadLetterNotFoundError } from '../../src/records/dead-letter.js';
import { InvalidScheduleError, ScheduleNotFoundError, SweepSourceError } from '../../src/schedule/errors.js';

describe('error catalogue', () => {
  it('maps each domain error to the HTTP answer it always had', () => {
    const http = (err: unknown) => {
      const { status, code, details } = toHttpError(err);
      return { status, code, details };
    };
    expect(http(new InvalidRequestError('bad', 'user'))).toEqual({
      status: 400,
      code: 'invalid_request',
      details: { field: 'user' },
    });
    expect(http(new JobNotFoundError('j'))).toEqual({ status: 404, code: 'not_found' });
    expect(http(new JobNotCancellableError('j', 'active'))).toEqual({
      status: 409,
      code: 'not_cancellable',
      details: { state: 'active' },
    });
    expect(http(new DeadLetterNotFoundError('d'))).toEqual({ status: 404, code: 'not_found' });
    expect(http(new RedriveNotSettledError('d', 'm'))).toEqual({
      status: 409,
      code: 'redrive_not_settled',
      details: { kept: true },
    });
    expect(http(new BatchNotFoundError('b'))).toEqual({ status: 404, code: 'not_found' });
    expect(http(new BatchStateError('b', 'approved'))).toEqual({
      status: 409,
      code: 'batch_state',
      details: { state: 'approved' },
    });
    expect(http(new BatchChangedError('b', 1, 2, 3))).toEqual({
      status: 409,
      code: 'batch_changed',
      details: { expected: 1, version: 2, count: 3 },
    });
    expect(http(new BatchVersionRequiredError('b', 2, 3))).toEqual({
      status: 428,
      code: 'precondition_required',
      details: { version: 2, count: 3 },
    });
    expect(http(new HeldLimitError('items_total', 10, 8, 5))).toEqual({
      status: 429,
      code: 'held_limit',
      details: { scope: 'items_total', limit: 10, current: 8, requested: 5, stored: false },
    });
    expect(http(new TwoPersonRuleError('b', 'alice'))).toEqual({ status: 403, code: 'two_person_rule' });
    expect(http(new Error('boom'))).toEqual({ status: 500, code: 'internal' });
    expect(toHttpError(new JobNotFoundError('j')).message).toBe('no offboarding job with id j');
  });

  it('gives each error the CLI exit code it always had', () => {
    const exits: [unknown, number][] = [
      [new ConfigError(['x']), 2],
      [new UsageError('u'), 2],
      [new InvalidScheduleError('s'), 2],
      [new BatchVersionRequiredError('b', 1, 1), 2],
      [new CommandFailedError('f'), 1],
      [new ScheduleNotFoundError('s'), 1],
      [new SweepSourceError('s'), 1],
      [new ImportFormatError('i'), 1],
      [new JobNotFoundError('j'), 1],
      [new HeldLimitError('items_total', 1, 1, 1), 1],
      [new InvalidRequestError('bad', 'user'), 1],
      [new Error('boom'), 1],
    ];
    for (const [err, exit] of exits) expect(exitCodeFor(err), String(err)).toBe(exit);
    expect(new ConfigError(['x']).exitCode).toBe(2);
  });

  it('prints the --json codes it always did', () => {
    const code = (err: unknown) => JSON.parse(jsonError(err)).error;
    expect(code(new ConfigError(['a', 'b']))).toMatchObject({
      code: 'config',
      details: { issues: ['a', 'b'] },
    });
    expect(code(new UsageError('u'))).toEqual({ code: 'usage', message: 'u' });
    expect(code(new CommandFailedError('f')).code).toBe('failed');
    expect(code(new JobNotFoundError('j'))).toEqual({
      code: 'error',
      message: 'no offboarding job with id j',
    });
    expect(code(new Error('boom')).code).toBe('error');
  });

  it('every entry has a title and an exit code of 1 or 2', () => {
    for (const [id, entry] of Object.entries(ERRORS)) {
      expect(id).toMatch(/^OFB_ERR_[A-Z_]+$/);
      expect(entry.title.length).toBeGreaterThan(0);
      expect([1, 2]).toContain(entry.cli.exit);
    }
  });
});
