import { describe, expect, it } from 'vitest';
import { toSearchHit } from '../../../src-main/core/library/librarySearch';
import type { StoredChunk } from '../../../src-main/core/search/chunkStore';

const row: StoredChunk = {
  id: 'doc_1:3',
  docId: 'doc_1',
  sourceId: 'src_1',
  collectionId: 'col_1',
  path: '/docs/manual.pdf',
  format: 'pdf',
  title: 'Manual',
  heading: 'Installation › Linux',
  ordinal: 3,
  pageStart: 4,
  pageEnd: 5,
  lineStart: null,
  lineEnd: null,
  text: 'Run the installer.',
  textHash: 'abc',
  tokenCount: 4,
};

/** One mapping from a stored chunk to the contract's passage, for search results and citations alike. */
describe('toSearchHit', () => {
  it('splits the heading path, keeps the location, and has no ranking for a passage read by id', () => {
    expect(toSearchHit(row)).toEqual({
      chunkId: 'doc_1:3',
      docId: 'doc_1',
      collectionId: 'col_1',
      path: '/docs/manual.pdf',
      title: 'Manual',
      format: 'pdf',
      heading: ['Installation', 'Linux'],
      location: { pageStart: 4, pageEnd: 5, lineStart: null, lineEnd: null },
      text: 'Run the installer.',
      score: 0,
      relevance: 0,
      bm25Rank: null,
      vectorRank: null,
      similarity: null,
      rerankScore: null,
      mode: null,
    });
  });

  it('carries a search ranking, and gives a passage without headings an empty path', () => {
    const hit = toSearchHit({ ...row, heading: '' }, { score: 0.03, relevance: 0.8, bm25Rank: 1, vectorRank: null, similarity: 0.42 });
    expect(hit).toMatchObject({ heading: [], score: 0.03, relevance: 0.8, bm25Rank: 1, vectorRank: null, similarity: 0.42, rerankScore: null });
  });
});
