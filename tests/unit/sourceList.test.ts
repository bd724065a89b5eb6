import { describe, expect, it } from 'vitest';
import type { Citation } from '#contract/dto';
import { mergeSources } from '../../src-renderer/src/lib/util/sourceList';

const at = (n: number, path: string, lines: [number, number] | null, extra: Partial<Citation> = {}): Citation => ({
  n,
  chunkId: `${path}:${n}`,
  docId: `doc_${path}`,
  path,
  title: null,
  heading: [],
  location: { pageStart: null, pageEnd: null, lineStart: lines?.[0] ?? null, lineEnd: lines?.[1] ?? null },
  text: `passage ${n}`,
  wholeDocument: false,
  ...extra,
});

const summary = (citations: Citation[]) => mergeSources(citations).map((entry) => ({ n: entry.numbers, path: entry.citation.path, location: entry.location }));

/** The chat's source list: one entry per place in a file, however many times it was cited. */
describe('mergeSources', () => {
  it('lists equal or overlapping line ranges of one file once, with every number and the union of the ranges', () => {
    const merged = summary([at(1, '/docs/tea.md', [3, 9]), at(2, '/docs/tea.md', [3, 9]), at(3, '/docs/tea.md', [8, 14]), at(4, '/docs/tea.md', [20, 24])]);
    expect(merged).toEqual([
      { n: [1, 2, 3], path: '/docs/tea.md', location: { pageStart: null, pageEnd: null, lineStart: 3, lineEnd: 14 } },
      { n: [4], path: '/docs/tea.md', location: { pageStart: null, pageEnd: null, lineStart: 20, lineEnd: 24 } },
    ]);
  });

  it('the same file from two collections (two document ids, one path) is one source; different files stay apart', () => {
    const merged = summary([at(1, '/docs/tea.md', [3, 9], { docId: 'doc_a' }), at(2, '/docs/coffee.md', [3, 9]), at(3, '/docs/tea.md', [5, 5], { docId: 'doc_b' })]);
    expect(merged.map((entry) => [entry.n, entry.path])).toEqual([
      [[1, 3], '/docs/tea.md'],
      [[2], '/docs/coffee.md'],
    ]);
  });

  it('pages overlap like lines; a whole-document citation takes in every passage of its file; order follows the lowest number', () => {
    const page = (n: number, start: number, end: number): Citation => at(n, '/docs/manual.pdf', null, { location: { pageStart: start, pageEnd: end, lineStart: null, lineEnd: null } });
    expect(summary([page(2, 4, 5), page(1, 5, 5), page(3, 7, 7)]).map((entry) => [entry.n, entry.location.pageStart, entry.location.pageEnd])).toEqual([
      [[1, 2], 4, 5],
      [[3], 7, 7],
    ]);
    const whole = mergeSources([at(1, '/docs/notes.txt', [1, 4]), at(2, '/docs/notes.txt', null, { wholeDocument: true }), at(3, '/docs/notes.txt', [30, 40])]);
    expect(whole.map((entry) => [entry.numbers, entry.wholeDocument])).toEqual([[[1, 2, 3], true]]);
  });

  it('passages without a known place merge only when they are the same chunk', () => {
    expect(summary([at(1, '/docs/page.html', null), at(2, '/docs/page.html', null)]).map((entry) => entry.n)).toEqual([[1], [2]]);
    expect(summary([at(1, '/docs/page.html', null, { chunkId: 'c1' }), at(2, '/docs/page.html', null, { chunkId: 'c1' })]).map((entry) => entry.n)).toEqual([[1, 2]]);
  });
});
