import { describe, expect, it } from 'vitest';
import { IntervalGate, KeyedSequencer, Sequencer, Throttler } from '../../../src-main/core/common/async';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A promise with its resolve, so a test decides when a task ends. */
function gate<T = void>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

/** A clock the test moves by hand. */
function clock(start = 1_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('Sequencer', () => {
  it('runs tasks one at a time, in the order they were queued', async () => {
    const sequencer = new Sequencer();
    const log: string[] = [];
    const first = gate();
    const a = sequencer.queue(async () => {
      log.push('a start');
      await first.promise;
      log.push('a end');
      return 'a';
    });
    const b = sequencer.queue(() => {
      log.push('b');
      return 'b';
    });
    await sleep(5);
    expect(log).toEqual(['a start']); // b waits for a
    first.open();
    expect(await Promise.all([a, b])).toEqual(['a', 'b']);
    expect(log).toEqual(['a start', 'a end', 'b']);
  });

  it('a failing task rejects only its own promise: the queue goes on', async () => {
    const sequencer = new Sequencer();
    const ran: string[] = [];
    const bad = sequencer.queue(async () => {
      ran.push('bad');
      throw new Error('boom');
    });
    const sync = sequencer.queue(() => {
      ran.push('sync-throw');
      throw new Error('sync boom');
    });
    const good = sequencer.queue(async () => {
      ran.push('good');
      return 42;
    });
    await expect(bad).rejects.toThrow('boom');
    await expect(sync).rejects.toThrow('sync boom');
    expect(await good).toBe(42);
    expect(ran).toEqual(['bad', 'sync-throw', 'good']);
  });

  it('settled() waits for every task queued so far and never rejects', async () => {
    const sequencer = new Sequencer();
    const slow = gate();
    let done = false;
    void sequencer.queue(() => slow.promise).then(() => (done = true));
    sequencer.queue(() => Promise.reject(new Error('ignored by settled'))).catch(() => undefined);
    const settled = sequencer.settled();
    await sleep(5);
    expect(done).toBe(false);
    slow.open();
    await expect(settled).resolves.toBeUndefined();
    expect(done).toBe(true);
    await expect(new Sequencer().settled()).resolves.toBeUndefined();
  });
});

describe('KeyedSequencer', () => {
  it('orders tasks per key while different keys run independently', async () => {
    const sequencer = new KeyedSequencer<string>();
    const log: string[] = [];
    const slowA = gate();
    const a1 = sequencer.queue('a', async () => {
      await slowA.promise;
      log.push('a1');
    });
    const a2 = sequencer.queue('a', () => void log.push('a2'));
    const b1 = sequencer.queue('b', () => void log.push('b1'));
    await b1;
    expect(log).toEqual(['b1']); // b did not wait for a
    expect(sequencer.has('a')).toBe(true);
    slowA.open();
    await Promise.all([a1, a2]);
    expect(log).toEqual(['b1', 'a1', 'a2']);
  });

  it('a failure does not break its key, and a drained key is forgotten', async () => {
    const sequencer = new KeyedSequencer<number>();
    await expect(sequencer.queue(1, () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(await sequencer.queue(1, () => 'after')).toBe('after');
    await sequencer.settled(1);
    await sleep(0);
    expect(sequencer.has(1)).toBe(false);
  });
});

describe('IntervalGate', () => {
  it('lets the first call through, then one per interval; force always passes', () => {
    const c = clock();
    const gate = new IntervalGate(100, c.now);
    expect(gate.tryPass()).toBe(true);
    c.t += 99;
    expect(gate.tryPass()).toBe(false);
    expect(gate.remainingMs()).toBe(1);
    c.t += 1;
    expect(gate.tryPass()).toBe(true);
    c.t += 10;
    expect(gate.tryPass(true)).toBe(true); // forced, and recorded:
    c.t += 90;
    expect(gate.ready()).toBe(false);
    c.t += 10;
    expect(gate.ready()).toBe(true);
  });

  it('pass() at the start makes the first call wait a whole interval', () => {
    const c = clock();
    const gate = new IntervalGate(100, c.now);
    gate.pass();
    expect(gate.tryPass()).toBe(false);
    c.t += 100;
    expect(gate.tryPass()).toBe(true);
  });
});

describe('Throttler', () => {
  it('leading: delivers at once, then keeps the newest of a burst and delivers it when the interval ends', async () => {
    const delivered: number[] = [];
    const throttler = new Throttler<number>((n) => delivered.push(n), { intervalMs: 30 });
    throttler.push(1);
    expect(delivered).toEqual([1]);
    throttler.push(2);
    throttler.push(3);
    expect(delivered).toEqual([1]);
    expect(throttler.pending).toEqual({ value: 3 });
    await sleep(60);
    expect(delivered).toEqual([1, 3]);
    expect(throttler.pending).toBeNull();
  });

  it('merges a burst with the given merge, never losing a value', async () => {
    const delivered: string[] = [];
    const throttler = new Throttler<string>((s) => delivered.push(s), { intervalMs: 30, merge: (a, b) => a + b });
    for (const piece of ['a', 'b', 'c', 'd']) throttler.push(piece);
    await sleep(60);
    expect(delivered).toEqual(['a', 'bcd']);
  });

  it('leading: false makes every burst wait one interval, then delivers once', async () => {
    let calls = 0;
    const throttler = new Throttler<void>(() => calls++, { intervalMs: 30, leading: false });
    throttler.push();
    throttler.push();
    expect(calls).toBe(0);
    await sleep(60);
    expect(calls).toBe(1);
    throttler.push();
    expect(calls).toBe(1); // a new burst waits again
    await sleep(60);
    expect(calls).toBe(2);
  });

  it('trailing: false keeps the newest value for the next push after the interval, or flush()', async () => {
    const c = clock();
    const delivered: number[] = [];
    const throttler = new Throttler<number>((n) => delivered.push(n), { intervalMs: 100, trailing: false, now: c.now });
    throttler.push(1);
    throttler.push(2);
    await sleep(20);
    expect(delivered).toEqual([1]); // no timer
    c.t += 100;
    throttler.push(3);
    expect(delivered).toEqual([1, 3]);
    throttler.push(4);
    throttler.flush();
    expect(delivered).toEqual([1, 3, 4]);
    throttler.flush();
    expect(delivered).toEqual([1, 3, 4]); // nothing waits: nothing delivered
  });

  it('flush() delivers what waits at once and restarts the interval', async () => {
    const delivered: number[] = [];
    const throttler = new Throttler<number>((n) => delivered.push(n), { intervalMs: 30 });
    throttler.push(1);
    throttler.push(2);
    throttler.flush();
    expect(delivered).toEqual([1, 2]);
    throttler.push(3); // within the interval of the flush: waits
    expect(delivered).toEqual([1, 2]);
    await sleep(60);
    expect(delivered).toEqual([1, 2, 3]);
  });

  it('dispose() drops what waits, stops the timer and ignores later pushes', async () => {
    const delivered: number[] = [];
    const throttler = new Throttler<number>((n) => delivered.push(n), { intervalMs: 20 });
    throttler.push(1);
    throttler.push(2);
    throttler.dispose();
    throttler.push(3);
    throttler.flush();
    await sleep(50);
    expect(delivered).toEqual([1]);
    expect(throttler.pending).toBeNull();
  });
});
