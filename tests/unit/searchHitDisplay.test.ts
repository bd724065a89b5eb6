import { describe, expect, it } from 'vitest';
import { foundBy, highlightParts, hitRelevance, matchStrength, queryTerms, relativeRelevance, snippetAround } from '../../src-renderer/src/lib/util/searchHit';

const marked = (text: string, query: string) =>
  highlightParts(text, queryTerms(query))
    .map((part) => (part.match ? `[${part.text}]` : part.text))
    .join('');

/** A search hit as people read it: the words they searched for marked, and a cue instead of a raw score. */
describe('search hit display', () => {
  it('marks each word that starts with a query term, ignoring case, punctuation and common words', () => {
    expect(queryTerms('How do Orchids need misting?')).toEqual(['orchids', 'need', 'misting']);
    expect(marked('Orchids need misting; orchids die if the misting stops.', 'orchid misting')).toBe('[Orchids] need [misting]; [orchids] die if the [misting] stops.');
    expect(marked('Zürich and ZÜRICHSEE, not Bazürich', 'zürich')).toBe('[Zürich] and [ZÜRICHSEE], not Bazürich');
    // One-character terms would mark half the passage; a term's regular-expression characters are plain text.
    expect(marked('cost (a+b) is $5', 'a+b $5')).toBe('cost (a+b) is $5');
    expect(highlightParts('x.y and xzy', ['x.y'])).toEqual([{ text: 'x.y', match: true }, { text: ' and xzy', match: false }]);
    expect(highlightParts('nothing to see', [])).toEqual([{ text: 'nothing to see', match: false }]);
    const parts = highlightParts('The kettle heats the kettle.', ['kettle']);
    expect(parts.map((part) => part.text).join('')).toBe('The kettle heats the kettle.');
  });

  it('starts the snippet near the first match when it lies deep in the passage', () => {
    const text = `${'Filler words about nothing much. '.repeat(20)}The foghorn compressor is serviced every Thursday. ${'More filler. '.repeat(10)}`;
    const snippet = snippetAround(text, queryTerms('foghorn'));
    expect(snippet.startsWith('…')).toBe(true);
    expect(snippet).toContain('The foghorn compressor is serviced');
    expect(snippet.length).toBeLessThanOrEqual(282);
    expect(snippetAround('Short passage about foghorns.', ['foghorn'])).toBe('Short passage about foghorns.');
    expect(snippetAround(`Foghorn first. ${'x '.repeat(200)}`, ['foghorn'])).toMatch(/^Foghorn first\. .*…$/);
  });

  it('says strong, good or weak match, from relevance or, lacking it, from the share of the best score', () => {
    expect([1, 0.75, 0.74, 0.4, 0.39, 0].map(matchStrength)).toEqual(['strong', 'strong', 'good', 'good', 'weak', 'weak']);
    expect(relativeRelevance([0.032, 0.016, 0.008])).toEqual([1, 0.5, 0.25]);
    expect(relativeRelevance([0, 0])).toEqual([0, 0]);
    const carried: { score: number }[] = [
      { score: 0.02, relevance: 0.9 },
      { score: 0.01, relevance: 0.3 },
    ].map((hit) => hit);
    expect(hitRelevance(carried)).toEqual([0.9, 0.3]);
    expect(hitRelevance([{ score: 0.02 }, { score: 0.01 }])).toEqual([1, 0.5]);
    expect(foundBy({ bm25Rank: 1, vectorRank: 4 })).toBe('Found by its words (#1) and by meaning (#4)');
    expect(foundBy({ bm25Rank: null, vectorRank: 2 })).toBe('Found by meaning (#2)');
  });
});
