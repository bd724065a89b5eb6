import { describe, expect, it } from 'vitest';
import { ContextGate } from '../../../src-main/core/library/contextGate';
import { contextsThatFit, embeddingParallelism, extraContextsBudget } from '../../../src-main/core/library/embeddingParallelism';

const GiB = 1024 ** 3;

describe('embeddingParallelism', () => {
  it('runs one context of one thread per physical core, at most 4, and one on a single core', () => {
    const auto = { contexts: null, threads: null };
    expect(embeddingParallelism(1, auto)).toEqual({ contexts: 1, threads: 1 });
    expect(embeddingParallelism(2, auto)).toEqual({ contexts: 2, threads: 1 });
    expect(embeddingParallelism(16, auto)).toEqual({ contexts: 4, threads: 1 });
  });

  it('keeps within --threads in all, and splits them between --embedding-contexts', () => {
    expect(embeddingParallelism(8, { contexts: null, threads: 1 })).toEqual({ contexts: 1, threads: 1 });
    expect(embeddingParallelism(8, { contexts: null, threads: 2 })).toEqual({ contexts: 2, threads: 1 });
    expect(embeddingParallelism(8, { contexts: null, threads: 8 })).toEqual({ contexts: 4, threads: 2 });
    expect(embeddingParallelism(8, { contexts: 1, threads: 6 })).toEqual({ contexts: 1, threads: 6 });
    expect(embeddingParallelism(2, { contexts: 3, threads: null })).toEqual({ contexts: 3, threads: 1 });
    expect(embeddingParallelism(2, { contexts: 3, threads: 2 })).toEqual({ contexts: 3, threads: 1 });
  });

  it('opens the contexts after the first only while the memory budget lasts', () => {
    expect(extraContextsBudget(64 * GiB, 32 * GiB)).toBe(2 * GiB);
    expect(extraContextsBudget(8 * GiB, 8 * GiB)).toBe(1 * GiB);
    expect(extraContextsBudget(8 * GiB, 1 * GiB)).toBe(GiB / 2);
    expect(contextsThatFit(4, 300 * 1024 ** 2, GiB)).toBe(4);
    expect(contextsThatFit(4, 600 * 1024 ** 2, GiB)).toBe(2);
    expect(contextsThatFit(4, 3 * GiB, GiB)).toBe(1);
    expect(contextsThatFit(1, 0, 0)).toBe(1);
  });
});

describe('ContextGate', () => {
  it('lends each slot once, lowest first, and a freed slot to a waiting search before waiting background work', async () => {
    const gate = new ContextGate(2);
    const a = await gate.acquire('low');
    const b = await gate.acquire('low');
    expect([a.slot, b.slot]).toEqual([0, 1]);
    const order: string[] = [];
    const low = gate.acquire('low').then((l) => (order.push(`low:${l.slot}`), l));
    const high = gate.acquire('high').then((l) => (order.push(`high:${l.slot}`), l));
    expect(gate.waitingCount('low')).toBe(1);
    b.release();
    b.release(); // twice does nothing
    await high;
    expect(order).toEqual(['high:1']);
    a.release();
    await low;
    expect(order).toEqual(['high:1', 'low:0']);
  });

  it('gives all slots to one caller once each is free, holding freed slots for it, and takes a new size', async () => {
    const gate = new ContextGate(2);
    const a = await gate.acquire('low');
    const b = await gate.acquire('low');
    let all: ((size?: number) => void) | null = null;
    const exclusive = gate.acquireAll().then((release) => (all = release));
    a.release();
    // The freed slot is held for the exclusive caller, not lent again.
    let lent = false;
    const later = gate.acquire('high').then((l) => ((lent = true), l));
    await Promise.resolve();
    expect(lent).toBe(false);
    expect(all).toBeNull();
    b.release();
    await exclusive;
    expect(lent).toBe(false);
    all!(1);
    const lease = await later;
    expect(lease.slot).toBe(0);
    expect(gate.capacity).toBe(1);
    gate.grow(2);
    expect(gate.capacity).toBe(3);
    expect((await gate.acquire('low')).slot).toBe(1);
  });
});
