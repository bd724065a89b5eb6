import { describe, expect, it } from 'vitest';
import { Emitter } from '../../../src-main/core/common/emitter';

type Events = { tick: number; note: string };

describe('Emitter', () => {
  it('delivers to every listener of the event, and unsubscribes', () => {
    const emitter = new Emitter<Events>();
    const seen: string[] = [];
    const off = emitter.on('tick', (n) => seen.push(`a${n}`));
    emitter.on('tick', (n) => seen.push(`b${n}`));
    emitter.on('note', (s) => seen.push(s));
    emitter.emit('tick', 1);
    off();
    emitter.emit('tick', 2);
    emitter.emit('note', 'hi');
    expect(seen).toEqual(['a1', 'b1', 'b2', 'hi']);
  });

  it('a throwing listener is reported and neither stops the others nor reaches the caller', () => {
    const reported: { error: unknown; event: string }[] = [];
    const emitter = new Emitter<Events>((error, event) => reported.push({ error, event }));
    const seen: number[] = [];
    emitter.on('tick', (n) => seen.push(n));
    emitter.on('tick', () => {
      throw new Error('bad listener');
    });
    emitter.on('tick', (n) => seen.push(n * 10));
    expect(() => emitter.emit('tick', 3)).not.toThrow();
    expect(seen).toEqual([3, 30]);
    expect(reported).toHaveLength(1);
    expect(reported[0]!.event).toBe('tick');
    expect((reported[0]!.error as Error).message).toBe('bad listener');
    emitter.emit('tick', 4); // still subscribed, still isolated
    expect(seen).toEqual([3, 30, 4, 40]);
    expect(reported).toHaveLength(2);
  });

  it('an async listener that rejects is reported too, never left unhandled', async () => {
    const reported: unknown[] = [];
    const emitter = new Emitter<Events>((error) => reported.push(error));
    emitter.on('note', async () => {
      await Promise.resolve();
      throw new Error('async bad');
    });
    emitter.emit('note', 'x');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(reported.map((e) => (e as Error).message)).toEqual(['async bad']);
  });

  it('an error handler that throws itself is contained as well', () => {
    const emitter = new Emitter<Events>(() => {
      throw new Error('handler broke');
    });
    let after = 0;
    emitter.on('tick', () => {
      throw new Error('bad');
    });
    emitter.on('tick', () => after++);
    expect(() => emitter.emit('tick', 1)).not.toThrow();
    expect(after).toBe(1);
  });
});
