import { describe, expect, it } from 'vitest';
import { createSingleFlight } from '../../src/entra/single-flight.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** An acquisition function whose calls the test settles by hand. */
function harness() {
  const calls: { forced: boolean; d: ReturnType<typeof deferred<string>> }[] = [];
  const flight = createSingleFlight((forced) => {
    const d = deferred<string>();
    calls.push({ forced, d });
    return d.promise;
  });
  const tick = () => new Promise((r) => setTimeout(r, 0));
  return { calls, flight, tick };
}

describe('single-flight token acquisition', () => {
  it('concurrent callers share one acquisition', async () => {
    const { calls, flight, tick } = harness();
    const all = Promise.all(Array.from({ length: 20 }, () => flight.run()));
    await tick();
    expect(calls).toHaveLength(1);
    calls[0]?.d.resolve('t1');
    expect(new Set(await all)).toEqual(new Set(['t1']));
    expect(flight.busy()).toBe(false);
    // Sequential callers after it settled start a new one.
    const next = flight.run();
    await tick();
    expect(calls).toHaveLength(2);
    calls[1]?.d.resolve('t2');
    expect(await next).toBe('t2');
  });

  it('shares failures with every waiter and recovers afterwards', async () => {
    const { calls, flight, tick } = harness();
    const a = flight.run();
    const b = flight.run();
    await tick();
    calls[0]?.d.reject(new Error('boom'));
    await expect(a).rejects.toThrow('boom');
    await expect(b).rejects.toThrow('boom');
    const c = flight.run();
    await tick();
    expect(calls).toHaveLength(2);
    calls[1]?.d.resolve('ok');
    expect(await c).toBe('ok');
  });

  it('a forced refresh joins a forced acquisition in flight', async () => {
    const { calls, flight, tick } = harness();
    const a = flight.run(true);
    const b = flight.run(true);
    const c = flight.run(false);
    await tick();
    expect(calls.map((x) => x.forced)).toEqual([true]);
    calls[0]?.d.resolve('fresh');
    expect(await Promise.all([a, b, c])).toEqual(['fresh', 'fresh', 'fresh']);
  });

  it('a forced refresh does not join an unforced one: it runs once after it, shared by all forced callers', async () => {
    const { calls, flight, tick } = harness();
    const plain = flight.run(false);
    const forced1 = flight.run(true);
    const forced2 = flight.run(true);
    await tick();
    expect(calls.map((x) => x.forced)).toEqual([false]);
    calls[0]?.d.resolve('old');
    expect(await plain).toBe('old');
    await tick();
    // Only now, and only once, the forced acquisition starts: never two in flight at a time.
    expect(calls.map((x) => x.forced)).toEqual([false, true]);
    const late = flight.run(false);
    calls[1]?.d.resolve('new');
    expect(await Promise.all([forced1, forced2, late])).toEqual(['new', 'new', 'new']);
    expect(calls).toHaveLength(2);
  });

  it('the queued forced refresh still runs when the unforced one failed', async () => {
    const { calls, flight, tick } = harness();
    const plain = flight.run(false);
    const forced = flight.run(true);
    await tick();
    calls[0]?.d.reject(new Error('transient'));
    await expect(plain).rejects.toThrow('transient');
    await tick();
    expect(calls.map((x) => x.forced)).toEqual([false, true]);
    calls[1]?.d.resolve('new');
    expect(await forced).toBe('new');
  });
});
