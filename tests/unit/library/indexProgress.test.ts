import { describe, expect, it } from 'vitest';
import { formatDuration, IndexProgress } from '../../../src-main/core/library/indexProgress';

describe('formatDuration', () => {
  it('rounds to whole seconds before splitting, so a minute never shows 60 seconds', () => {
    expect(formatDuration(0.2)).toBe('1 s');
    expect(formatDuration(59.4)).toBe('59 s');
    expect(formatDuration(59.6)).toBe('1 min 0 s');
    expect(formatDuration(779.7)).toBe('13 min 0 s');
    expect(formatDuration(725)).toBe('12 min 5 s');
    expect(formatDuration(3599.6)).toBe('1 h 0 min');
    expect(formatDuration(7380)).toBe('2 h 3 min');
  });
});

describe('IndexProgress', () => {
  function recorder(vectors: boolean) {
    let clock = 0;
    const reports: { fraction: number; detail: string }[] = [];
    const progress = new IndexProgress((fraction, detail) => reports.push({ fraction, detail }), vectors, () => clock);
    return { progress, reports, tick: (seconds: number) => (clock += seconds * 1000) };
  }

  it('measures chunks embedded, not files: one big file left is far from done', () => {
    const { progress, reports, tick } = recorder(true);
    progress.reading({ filesDone: 31, filesTotal: 31, bytesDone: 100, bytesTotal: 100, chunks: 900 }, null);
    progress.embedding({ chunksDone: 0, chunksTotal: 900 }, 'book.epub');
    tick(10);
    progress.embedding({ chunksDone: 200, chunksTotal: 900 }, 'book.epub');
    const last = reports.at(-1)!;
    expect(last.fraction).toBeCloseTo(0.2 + 0.8 * (200 / 900), 5);
    // 700 chunks at 20 chunks/s.
    expect(last.detail).toBe('Embedding 200/900 chunks · 31 files searchable · about 35 s left · book.epub');
  });

  it('never goes backwards when more work turns up', () => {
    const { progress, reports, tick } = recorder(false);
    progress.reading({ filesDone: 0, filesTotal: 2, bytesDone: 0, bytesTotal: 1000, chunks: 0 }, null);
    tick(2);
    progress.reading({ filesDone: 1, filesTotal: 2, bytesDone: 800, bytesTotal: 1000, chunks: 5 }, 'a.md');
    // A watched folder adds a big file: the bar waits instead of jumping back.
    progress.reading({ filesDone: 1, filesTotal: 3, bytesDone: 800, bytesTotal: 9000, chunks: 5 }, 'b.md');
    tick(2);
    progress.reading({ filesDone: 2, filesTotal: 3, bytesDone: 8000, bytesTotal: 9000, chunks: 40 }, 'c.md');
    const fractions = reports.map((r) => r.fraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions[1]).toBeCloseTo(0.8, 5);
    expect(fractions[2]).toBeCloseTo(0.8, 5);
    expect(fractions[3]).toBeCloseTo(8000 / 9000, 5);
    // Without vectors reading is all the work, so its rate gives the time left.
    expect(reports.at(-1)!.detail).toBe('Reading 2/3 files · 40 chunks · about 1 s left · c.md');
  });
});
