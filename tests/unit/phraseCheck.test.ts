import { describe, expect, it } from 'vitest';
import { pickCheckPositions, wordMatches } from '../../src-renderer/src/lib/util/phraseCheck';

describe('recovery phrase check', () => {
  it('asks for three distinct positions in order, spread over the whole phrase across tries', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const positions = pickCheckPositions(12, 3);
      expect(positions).toHaveLength(3);
      expect(new Set(positions).size).toBe(3);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
      for (const p of positions) {
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThan(12);
        seen.add(p);
      }
    }
    expect(seen.size).toBe(12);
  });

  it('never asks for more words than the phrase has', () => {
    expect(pickCheckPositions(2, 3)).toEqual([0, 1]);
  });

  it('matches a word trimmed and case-blind, and never an empty answer', () => {
    expect(wordMatches(' Harbour ', 'harbour')).toBe(true);
    expect(wordMatches('harbor', 'harbour')).toBe(false);
    expect(wordMatches('', '')).toBe(false);
    expect(wordMatches('harbour lights', 'harbour')).toBe(false);
  });
});
