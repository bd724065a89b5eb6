import { describe, expect, it } from 'vitest';
import { reciprocalRankFusion } from '../../src-main/core/search/hybridSearch';

describe('reciprocalRankFusion', () => {
  it('sums 1 / (k + rank) over the lists, ranks 1-based', () => {
    const fused = reciprocalRankFusion([
      ['a', 'b', 'c'],
      ['c', 'a', 'd'],
    ]);
    expect(fused.map((f) => f.id)).toEqual(['a', 'c', 'b', 'd']);
    const byId = Object.fromEntries(fused.map((f) => [f.id, f]));
    expect(byId.a!.score).toBeCloseTo(1 / 61 + 1 / 62, 12);
    expect(byId.c!.score).toBeCloseTo(1 / 63 + 1 / 61, 12);
    expect(byId.b!.score).toBeCloseTo(1 / 62, 12);
    expect(byId.d!.score).toBeCloseTo(1 / 63, 12);
    expect(byId.a!.ranks).toEqual([1, 2]);
    expect(byId.c!.ranks).toEqual([3, 1]);
    expect(byId.b!.ranks).toEqual([2, null]);
    expect(byId.d!.ranks).toEqual([null, 3]);
  });

  it('honours k: a small k rewards the top of each list more', () => {
    // x is first in one list and absent from the other; y is second in both.
    const lists = [
      ['x', 'y'],
      ['z', 'y'],
    ];
    expect(reciprocalRankFusion(lists, 60)[0]!.id).toBe('y'); // 2/62 > 1/61
    const sharp = reciprocalRankFusion(lists, 0);
    // k = 0: all three score exactly 1 (1/1 against 1/2 + 1/2); x and z have the better best rank.
    expect(sharp.map((f) => f.id)).toEqual(['x', 'z', 'y']);
    expect(sharp[2]!.score).toBeCloseTo(1, 12);
    expect(sharp[0]!.score).toBeCloseTo(1, 12);
    expect(reciprocalRankFusion(lists, 1).map((f) => f.id)).toEqual(['y', 'x', 'z']); // 2/3 > 1/2
  });

  it('breaks ties by best rank, then by the earlier list, then by id', () => {
    // p and q each top one list: equal scores, equal best rank; p comes from the first list.
    expect(reciprocalRankFusion([['p'], ['q']]).map((f) => f.id)).toEqual(['p', 'q']);
    expect(reciprocalRankFusion([['q'], ['p']]).map((f) => f.id)).toEqual(['q', 'p']);
    // An exact tie with k = 0: r (ranks 2 and 2) and s, t (rank 1 once) all score 1.
    expect(reciprocalRankFusion([['s', 'r'], ['t', 'r']], 0).map((f) => f.id)).toEqual(['s', 't', 'r']);
    // Identical ranks in the same lists: by id.
    const fused = reciprocalRankFusion([['m', 'n'], ['n', 'm']]);
    expect(fused[0]!.score).toBe(fused[1]!.score);
    expect(fused.map((f) => f.id)).toEqual(['m', 'n']);
  });

  it('works when one list is empty, or all are', () => {
    const fused = reciprocalRankFusion([[], ['a', 'b']]);
    expect(fused.map((f) => [f.id, f.ranks])).toEqual([
      ['a', [null, 1]],
      ['b', [null, 2]],
    ]);
    expect(fused[0]!.score).toBeCloseTo(1 / 61, 12);
    expect(reciprocalRankFusion([['a'], []])[0]!.ranks).toEqual([1, null]);
    expect(reciprocalRankFusion([[], []])).toEqual([]);
    expect(reciprocalRankFusion([])).toEqual([]);
  });

  it('counts an id repeated within one list at its best rank only', () => {
    const fused = reciprocalRankFusion([['a', 'b', 'a']]);
    expect(fused.map((f) => [f.id, f.ranks[0]])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect(fused[0]!.score).toBeCloseTo(1 / 61, 12);
  });

  it('fuses three lists and rejects a bad k', () => {
    const fused = reciprocalRankFusion([['a'], ['b', 'a'], ['a']]);
    expect(fused[0]).toMatchObject({ id: 'a', ranks: [1, 2, 1] });
    expect(fused[0]!.score).toBeCloseTo(2 / 61 + 1 / 62, 12);
    expect(() => reciprocalRankFusion([['a']], -1)).toThrow(/non-negative/);
    expect(() => reciprocalRankFusion([['a']], Number.NaN)).toThrow(/non-negative/);
  });

  it('weighs each list: weight / (k + rank), a weight of 0 keeps the ranks but adds nothing', () => {
    const lists = [
      ['a', 'b'],
      ['b', 'c'],
    ];
    const weighted = reciprocalRankFusion(lists, 60, [1, 0.25]);
    const byId = Object.fromEntries(weighted.map((f) => [f.id, f]));
    expect(byId.a!.score).toBeCloseTo(1 / 61, 12);
    expect(byId.b!.score).toBeCloseTo(1 / 62 + 0.25 / 61, 12);
    expect(byId.c!.score).toBeCloseTo(0.25 / 62, 12);
    expect(weighted.map((f) => f.id)).toEqual(['b', 'a', 'c']);
    // Off: the second list cannot reorder the first; its ids still show their ranks.
    const off = reciprocalRankFusion(lists, 60, [1, 0]);
    expect(off.map((f) => f.id)).toEqual(['a', 'b', 'c']);
    expect(off.find((f) => f.id === 'c')).toMatchObject({ score: 0, ranks: [null, 2] });
    // Missing weights are 1: the unweighted fusion.
    expect(reciprocalRankFusion(lists, 60, [1]).map((f) => f.score)).toEqual(reciprocalRankFusion(lists).map((f) => f.score));
    expect(() => reciprocalRankFusion(lists, 60, [1, -0.5])).toThrow(/non-negative/);
    expect(() => reciprocalRankFusion(lists, 60, [Number.NaN])).toThrow(/non-negative/);
  });
});
