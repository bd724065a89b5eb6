import { describe, expect, it } from 'vitest';
import { defaultThreads } from '../../../src-main/core/common/threads';

describe('defaultThreads', () => {
  it('leaves one core free, so a busy neighbour does not stall every token at a barrier', () => {
    expect(defaultThreads(2)).toBe(1);
    expect(defaultThreads(4)).toBe(3);
    expect(defaultThreads(16)).toBe(15);
  });

  it('uses at least one thread', () => {
    expect(defaultThreads(1)).toBe(1);
    expect(defaultThreads(0)).toBe(1);
  });
});
