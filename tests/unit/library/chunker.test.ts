import { describe, expect, it } from 'vitest';
import { approximateTokenCount, chunkDocument } from '../../../src-main/core/library/chunker';
import type { Block, Chunk, ChunkOptions, DocumentFormat, ParsedDocument } from '../../../src-main/core/library/types';

const doc = (blocks: Block[], format: DocumentFormat = 'markdown'): ParsedDocument => ({ format, title: null, blocks, warnings: [] });
const heading = (level: number, text: string, extra: Partial<Block> = {}): Block => ({ kind: 'heading', level, text, ...extra });
const paragraph = (text: string, extra: Partial<Block> = {}): Block => ({ kind: 'paragraph', text, ...extra });
const options = (maxTokens: number, overlapTokens = 0, countTokens: (text: string) => number = approximateTokenCount): ChunkOptions => ({
  maxTokens,
  overlapTokens,
  countTokens,
});

/** Whitespace-separated words: easy to reason about in sizes. */
const countWords = (text: string): number => text.split(/\s+/).filter(Boolean).length;

/** What every chunk list must satisfy, whatever the input. */
function expectWellFormed(chunks: Chunk[], opts: ChunkOptions): void {
  chunks.forEach((chunk, i) => {
    expect(chunk.ordinal).toBe(i);
    expect(chunk.text.trim()).not.toBe('');
    expect(chunk.tokenCount).toBe(opts.countTokens(chunk.text));
    expect(chunk.tokenCount).toBeLessThanOrEqual(opts.maxTokens);
  });
}

const sentence = (i: number): string => `Sentence number ${i} talks about topic ${i % 7}.`;

describe('approximateTokenCount', () => {
  it('counts about four ASCII characters per token and one per non-ASCII character', () => {
    expect(approximateTokenCount('')).toBe(0);
    expect(approximateTokenCount('abcd')).toBe(1);
    expect(approximateTokenCount('abcde')).toBe(2);
    expect(approximateTokenCount('a'.repeat(400))).toBe(100);
    expect(approximateTokenCount('日本語')).toBe(3);
  });

  it('never counts a joined text as more than its parts', () => {
    const parts = ['Hello world.', 'ünïcödé', 'x', '', '日本'];
    for (const a of parts) for (const b of parts) expect(approximateTokenCount(`${a}\n\n${b}`)).toBeLessThanOrEqual(approximateTokenCount(a) + approximateTokenCount('\n\n') + approximateTokenCount(b));
  });
});

describe('chunkDocument: structure', () => {
  it('follows heading levels (h1 > h2 > h3, then an h2 pops back) and starts each section with its heading', () => {
    const chunks = chunkDocument(
      doc([
        heading(1, 'Guide'),
        paragraph('Intro text.'),
        heading(2, 'Install'),
        paragraph('Run the installer.'),
        heading(3, 'Linux'),
        paragraph('Use the AppImage.'),
        heading(2, 'Usage'),
        paragraph('Open the app.'),
      ]),
      options(200),
    );
    expect(chunks.map((c) => c.headingPath)).toEqual([['Guide'], ['Guide', 'Install'], ['Guide', 'Install', 'Linux'], ['Guide', 'Usage']]);
    expect(chunks.map((c) => c.text)).toEqual(['Guide\nIntro text.', 'Install\nRun the installer.', 'Linux\nUse the AppImage.', 'Usage\nOpen the app.']);
  });

  it('puts text before the first heading in a chunk with an empty path', () => {
    const chunks = chunkDocument(doc([paragraph('Preface.'), heading(1, 'One'), paragraph('Body.')]), options(200));
    expect(chunks.map((c) => [c.headingPath, c.text])).toEqual([
      [[], 'Preface.'],
      [['One'], 'One\nBody.'],
    ]);
  });

  it('carries an empty parent heading into its first child section, and keeps a childless empty heading as its own chunk', () => {
    const chunks = chunkDocument(
      doc([heading(1, 'Book'), heading(2, 'Chapter   one'), paragraph('It began.'), heading(2, 'Empty chapter'), heading(2, 'Chapter three'), paragraph('It ended.'), heading(3, 'Trailing')]),
      options(200),
    );
    expect(chunks.map((c) => [c.headingPath, c.text])).toEqual([
      [['Book', 'Chapter one'], 'Book\nChapter one\nIt began.'],
      [['Book', 'Empty chapter'], 'Empty chapter'],
      [['Book', 'Chapter three'], 'Chapter three\nIt ended.'],
      [['Book', 'Chapter three', 'Trailing'], 'Trailing'],
    ]);
  });

  it('does not repeat the heading in later chunks of the same section', () => {
    const blocks: Block[] = [heading(2, 'Long section')];
    for (let i = 0; i < 20; i++) blocks.push(paragraph(`Paragraph ${i} has exactly seven words.`));
    const opts = options(20, 0, countWords);
    const chunks = chunkDocument(doc(blocks), opts);
    expectWellFormed(chunks, opts);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks[0]!.text.startsWith('Long section\nParagraph 0')).toBe(true);
    for (const chunk of chunks.slice(1)) {
      expect(chunk.text).not.toContain('Long section');
      expect(chunk.headingPath).toEqual(['Long section']);
    }
  });

  it('never lets a chunk span two PDF pages, and records the page range', () => {
    const chunks = chunkDocument(
      doc(
        [
          heading(1, 'Report', { page: 1 }),
          paragraph('First page text.', { page: 1 }),
          paragraph('More on page one.', { page: 1 }),
          paragraph('Second page text.', { page: 2 }),
          paragraph('Third page text.', { page: 3 }),
        ],
        'pdf',
      ),
      options(500),
    );
    expect(chunks.map((c) => [c.pageStart, c.pageEnd, c.text])).toEqual([
      [1, 1, 'Report\nFirst page text.\n\nMore on page one.'],
      [2, 2, 'Second page text.'],
      [3, 3, 'Third page text.'],
    ]);
    expect(chunks.every((c) => c.lineStart === null && c.lineEnd === null)).toBe(true);
    expect(chunks.every((c) => c.headingPath[0] === 'Report')).toBe(true);
  });

  it('splits a long paragraph within its page', () => {
    const long = Array.from({ length: 40 }, (_, i) => sentence(i)).join(' ');
    const opts = options(60, 10);
    const chunks = chunkDocument(doc([paragraph('Short.', { page: 4 }), paragraph(long, { page: 5 })], 'pdf'), opts);
    expectWellFormed(chunks, opts);
    expect(chunks[0]).toMatchObject({ text: 'Short.', pageStart: 4, pageEnd: 4 });
    expect(chunks.slice(1).every((c) => c.pageStart === 5 && c.pageEnd === 5)).toBe(true);
  });

  it('gives pages and lines as null when blocks have none', () => {
    const [chunk] = chunkDocument(doc([paragraph('Plain.')], 'docx'), options(100));
    expect(chunk).toEqual({ ordinal: 0, text: 'Plain.', headingPath: [], pageStart: null, pageEnd: null, lineStart: null, lineEnd: null, tokenCount: 2 });
  });
});

describe('chunkDocument: merging and line ranges', () => {
  it('merges small paragraphs of one section with blank lines, up to maxTokens', () => {
    const blocks = Array.from({ length: 10 }, (_, i) => paragraph(`Para ${i} is five words.`, { lineStart: i * 2 + 1, lineEnd: i * 2 + 1 }));
    const opts = options(16, 0, countWords);
    const chunks = chunkDocument(doc(blocks), opts);
    expectWellFormed(chunks, opts);
    // 5 words a paragraph: three fit in 16 tokens.
    expect(chunks.map((c) => c.text.split('\n\n').length)).toEqual([3, 3, 3, 1]);
    expect(chunks[0]!.text).toBe('Para 0 is five words.\n\nPara 1 is five words.\n\nPara 2 is five words.');
    expect(chunks.map((c) => [c.lineStart, c.lineEnd])).toEqual([
      [1, 5],
      [7, 11],
      [13, 17],
      [19, 19],
    ]);
  });

  it('takes a markdown chunk line range from its heading to its last block', () => {
    const chunks = chunkDocument(
      doc([
        heading(1, 'Title', { lineStart: 1, lineEnd: 1 }),
        paragraph('Hello there.', { lineStart: 3, lineEnd: 4 }),
        { kind: 'code', text: 'const x = 1;\nconsole.log(x);', lineStart: 6, lineEnd: 9 },
        heading(2, 'Next', { lineStart: 11, lineEnd: 11 }),
        paragraph('More.', { lineStart: 13, lineEnd: 13 }),
      ]),
      options(200),
    );
    expect(chunks.map((c) => [c.lineStart, c.lineEnd])).toEqual([
      [1, 9],
      [11, 13],
    ]);
    expect(chunks[0]!.text).toBe('Title\nHello there.\n\nconst x = 1;\nconsole.log(x);');
  });

  it('merges consecutive row blocks of one CSV without repeating the header', () => {
    const header = 'name,age';
    const chunks = chunkDocument(
      doc(
        [
          { kind: 'table', text: 'ann,31\nbob,42', header, lineStart: 2, lineEnd: 3 },
          { kind: 'table', text: 'cid,53', header, lineStart: 4, lineEnd: 4 },
        ],
        'csv',
      ),
      options(200),
    );
    expect(chunks.map((c) => [c.text, c.lineStart, c.lineEnd])).toEqual([['name,age\nann,31\nbob,42\ncid,53', 2, 4]]);
  });
});

describe('chunkDocument: splitting large blocks', () => {
  it('splits a long paragraph at sentences, with whole sentences repeated as overlap', () => {
    const sentences = Array.from({ length: 60 }, (_, i) => sentence(i));
    const opts = options(50, 12);
    const chunks = chunkDocument(doc([heading(1, 'Topic'), paragraph(sentences.join(' '), { lineStart: 3, lineEnd: 3 })]), opts);
    expectWellFormed(chunks, opts);
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks[0]!.text.startsWith('Topic\nSentence number 0 ')).toBe(true);
    for (const chunk of chunks) {
      const body = chunk.ordinal === 0 ? chunk.text.slice('Topic\n'.length) : chunk.text;
      // Whole sentences only.
      expect(body).toMatch(/^Sentence number \d+ .*\.$/);
      expect(chunk.lineStart).toBe(3);
      expect(chunk.lineEnd).toBe(3);
    }
    // Each piece opens with the sentence(s) that closed the one before.
    for (let i = 1; i < chunks.length; i++) {
      const previous = chunks[i - 1]!.text;
      const firstSentence = /^(.*?\.)( |$)/.exec(chunks[i]!.text)![1]!;
      expect(previous.endsWith(firstSentence)).toBe(true);
      expect(approximateTokenCount(firstSentence)).toBeLessThanOrEqual(25);
    }
    // Every sentence is somewhere, in order.
    const all = chunks.map((c) => c.text).join(' ');
    let at = 0;
    for (const s of sentences) {
      at = all.indexOf(s, at);
      expect(at).toBeGreaterThanOrEqual(0);
    }
  });

  it('keeps the overlap within half a chunk even when asked for more', () => {
    const text = Array.from({ length: 40 }, (_, i) => `Word${i}.`).join(' ');
    const opts = options(10, 50, countWords);
    const chunks = chunkDocument(doc([paragraph(text)]), opts);
    expectWellFormed(chunks, opts);
    for (let i = 1; i < chunks.length; i++) {
      const previous = chunks[i - 1]!.text.split(' ');
      const current = chunks[i]!.text.split(' ');
      let shared = 0;
      while (shared < current.length && previous.includes(current[shared]!)) shared++;
      expect(shared).toBeGreaterThan(0);
      expect(shared).toBeLessThanOrEqual(5);
    }
  });

  it('falls back to words for a sentence too long, and to characters for a run without spaces', () => {
    const words = Array.from({ length: 300 }, (_, i) => `w${i}`).join(' ');
    const blob = 'x'.repeat(5000);
    const opts = options(32, 4);
    const chunks = chunkDocument(doc([paragraph(words), paragraph(blob), paragraph('日本語の文章。'.repeat(200))]), opts);
    expectWellFormed(chunks, opts);
    const joined = chunks.map((c) => c.text).join('');
    expect(joined).toContain('w299');
    // The blob comes back whole once the overlaps are taken out.
    const blobPieces = chunks.filter((c) => /^x+$/.test(c.text));
    expect(blobPieces.length).toBeGreaterThan(1);
    expect(blobPieces.reduce((n, c) => n + c.text.length, 0)).toBeGreaterThanOrEqual(5000);
  });

  it('splits code between lines and gives each piece its own line range', () => {
    const lines = Array.from({ length: 60 }, (_, i) => `  line_${i} = compute(${i});`);
    const opts = options(40, 8);
    const chunks = chunkDocument(doc([{ kind: 'code', text: lines.join('\n'), lineStart: 11, lineEnd: 70 }], 'code'), opts);
    expectWellFormed(chunks, opts);
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) {
      const pieceLines = chunk.text.split('\n');
      // Whole lines, indentation kept, and the range names exactly those lines.
      for (const line of pieceLines) expect(lines).toContain(line);
      const first = lines.indexOf(pieceLines[0]!);
      expect(chunk.lineStart).toBe(11 + first);
      expect(chunk.lineEnd).toBe(11 + first + pieceLines.length - 1);
    }
    expect(chunks.at(-1)!.lineEnd).toBe(70);
    for (let i = 1; i < chunks.length; i++) expect(chunks[i]!.lineStart).toBeLessThanOrEqual(chunks[i - 1]!.lineEnd!); // overlapping lines
  });

  it('maps the lines of a fenced code block whose range includes the fences', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `print(${i}) # a comment long enough`);
    const opts = options(40);
    // Fence on line 5, code on lines 6..35, closing fence on 36.
    const chunks = chunkDocument(doc([{ kind: 'code', text: lines.join('\n'), lineStart: 5, lineEnd: 36 }]), opts);
    expectWellFormed(chunks, opts);
    expect(chunks[0]!.lineStart).toBe(6);
    expect(chunks.at(-1)!.lineEnd).toBe(35);
  });

  it('keeps the block range when its lines cannot be matched to the source', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `print(${i}) # a comment long enough`);
    const chunks = chunkDocument(doc([{ kind: 'code', text: lines.join('\n'), lineStart: 1, lineEnd: 100 }]), options(40));
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.every((c) => c.lineStart === 1 && c.lineEnd === 100)).toBe(true);
  });

  it('splits a very long code line only when it alone is too big', () => {
    const text = `short();\n${'a'.repeat(400)}\nend();`;
    const opts = options(30);
    const chunks = chunkDocument(doc([{ kind: 'code', text, lineStart: 1, lineEnd: 3 }], 'code'), opts);
    expectWellFormed(chunks, opts);
    expect(chunks[0]!.text.startsWith('short();')).toBe(true);
    expect(chunks.filter((c) => c.text.includes('a')).every((c) => c.lineStart === 2 || c.text.startsWith('short'))).toBe(true);
    expect(chunks.at(-1)!.text.endsWith('end();')).toBe(true);
  });

  it('repeats the CSV header at the top of every piece, with row line ranges', () => {
    const header = 'id,name,city';
    const rows = Array.from({ length: 80 }, (_, i) => `${i},person${i},town${i % 5}`);
    const opts = options(60, 10);
    // Line 1 is the header in the file; rows are lines 2..81.
    const chunks = chunkDocument(doc([{ kind: 'table', text: rows.join('\n'), header, lineStart: 2, lineEnd: 81 }], 'csv'), opts);
    expectWellFormed(chunks, opts);
    expect(chunks.length).toBeGreaterThan(3);
    const seen = new Set<string>();
    for (const chunk of chunks) {
      const [top, ...body] = chunk.text.split('\n');
      expect(top).toBe(header);
      expect(body.length).toBeGreaterThan(0);
      for (const row of body) {
        expect(rows).toContain(row);
        seen.add(row);
      }
      expect(chunk.lineStart).toBe(2 + rows.indexOf(body[0]!));
      expect(chunk.lineEnd).toBe(2 + rows.indexOf(body.at(-1)!));
    }
    expect(seen.size).toBe(rows.length);
  });

  it('does not repeat a CSV header that is also the text first line, and handles the header in the range', () => {
    const header = 'k,v';
    const rows = Array.from({ length: 50 }, (_, i) => `key${i},value${i}`);
    const opts = options(40);
    const chunks = chunkDocument(doc([{ kind: 'table', text: [header, ...rows].join('\n'), header, lineStart: 1, lineEnd: 51 }], 'csv'), opts);
    expectWellFormed(chunks, opts);
    for (const chunk of chunks) expect(chunk.text.split('\n').filter((line) => line === header)).toHaveLength(1);
    expect(chunks[0]!.lineStart).toBe(1);
    expect(chunks[1]!.lineStart).toBe(2 + rows.indexOf(chunks[1]!.text.split('\n')[1]!));
  });

  it('repeats a markdown table header and rule line', () => {
    const rows = Array.from({ length: 40 }, (_, i) => `| ${i} | item ${i} |`);
    const text = ['| n | name |', '| --- | --- |', ...rows].join('\n');
    const opts = options(50);
    const chunks = chunkDocument(doc([{ kind: 'table', text }]), opts);
    expectWellFormed(chunks, opts);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(chunk.text.startsWith('| n | name |\n| --- | --- |\n| ')).toBe(true);
  });

  it('splits lists between items, keeping continuation lines with their item', () => {
    const items: string[] = [];
    for (let i = 0; i < 30; i++) items.push(`- item ${i} says something`, `  continued ${i} here`);
    const opts = options(40);
    const chunks = chunkDocument(doc([{ kind: 'list', text: items.join('\n'), lineStart: 1, lineEnd: 60 }]), opts);
    expectWellFormed(chunks, opts);
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) {
      const lines = chunk.text.split('\n');
      expect(lines[0]!.startsWith('- item ')).toBe(true);
      expect(lines.at(-1)!.startsWith('  continued ')).toBe(true);
      expect(chunk.lineStart! % 2).toBe(1);
      expect(chunk.lineEnd! - chunk.lineStart! + 1).toBe(lines.length);
    }
  });

  it('splits a block that would only fit without its heading line, so the heading still opens the section', () => {
    const text = Array.from({ length: 9 }, (_, i) => `s${i}.`).join(' ');
    const opts = options(9, 0, countWords);
    const chunks = chunkDocument(doc([heading(1, 'Head'), paragraph(text)]), opts);
    expectWellFormed(chunks, opts);
    expect(chunks[0]!.text.startsWith('Head\ns0.')).toBe(true);
    expect(chunks.map((c) => c.text).join(' ')).toContain('s8.');
  });
});

describe('chunkDocument: robustness', () => {
  it('never emits empty or whitespace-only chunks', () => {
    const opts = options(20);
    const chunks = chunkDocument(
      doc([paragraph(''), paragraph('   \n\t '), { kind: 'code', text: '\n\n\n' }, { kind: 'list', text: '  ' }, heading(1, '   '), paragraph('Real.'), { kind: 'code', text: `${'\n'.repeat(200)}x = 1` }]),
      opts,
    );
    expectWellFormed(chunks, opts);
    expect(chunks.map((c) => c.text)).toEqual(['Real.\n\nx = 1']);
    expect(chunkDocument(doc([]), opts)).toEqual([]);
  });

  it('keeps every chunk within the limit when the counter is not additive', () => {
    // Superadditive: a joined text costs more than its parts, so plans from summed counts overshoot.
    const greedy = (text: string): number => {
      const words = countWords(text);
      return words + Math.floor(words / 4);
    };
    const opts = options(12, 3, greedy);
    const blocks = Array.from({ length: 50 }, (_, i) => paragraph(`p${i} a b`));
    const long = Array.from({ length: 60 }, (_, i) => `s${i} x.`).join(' ');
    const rows = Array.from({ length: 40 }, (_, i) => `r${i},v`).join('\n');
    const chunks = chunkDocument(doc([heading(1, 'H'), ...blocks, paragraph(long), { kind: 'table', text: rows, header: 'k,v' }]), opts);
    expectWellFormed(chunks, opts);
    const all = chunks.map((c) => c.text).join('\n\n');
    for (const needle of ['p0 a b', 'p49 a b', 's0 x.', 's59 x.', 'r0,v', 'r39,v']) expect(all).toContain(needle);
  });

  it('is deterministic', () => {
    const blocks: Block[] = [];
    for (let i = 0; i < 50; i++) {
      if (i % 10 === 0) blocks.push(heading((i / 10) % 3 + 1, `Section ${i}`, { page: Math.floor(i / 7) + 1 }));
      blocks.push(paragraph(Array.from({ length: i % 13 }, (_, j) => sentence(i * 100 + j)).join(' '), { page: Math.floor(i / 7) + 1 }));
    }
    const opts = options(40, 8);
    const first = chunkDocument(doc(blocks, 'pdf'), opts);
    expectWellFormed(first, opts);
    expect(chunkDocument(doc(structuredClone(blocks), 'pdf'), opts)).toEqual(first);
  });

  it('rejects a maxTokens below 1 and a negative overlap', () => {
    expect(() => chunkDocument(doc([paragraph('x')]), options(0))).toThrow(/maxTokens/);
    expect(() => chunkDocument(doc([paragraph('x')]), options(10, -1))).toThrow(/overlapTokens/);
  });

  it('chunks a ~20 MB document of many paragraphs, with contiguous ordinals and bounded sizes', () => {
    const blocks: Block[] = [];
    let size = 0;
    let line = 1;
    for (let i = 0; size < 20_000_000; i++) {
      if (i % 500 === 0) {
        blocks.push(heading(1 + ((i / 500) % 3), `Part ${i}`, { lineStart: line, lineEnd: line }));
        line += 2;
      }
      // Mostly short paragraphs, now and then one far over the limit.
      const sentences = i % 4999 === 0 ? 400 : 1 + (i % 4);
      const text = Array.from({ length: sentences }, (_, j) => `Paragraph ${i}, sentence ${j}.`).join(' ');
      blocks.push(paragraph(text, { lineStart: line, lineEnd: line }));
      size += text.length;
      line += 2;
    }
    expect(blocks.length).toBeGreaterThan(200_000);
    const opts = options(256, 32);
    const chunks = chunkDocument(doc(blocks, 'text'), opts);
    expect(chunks.length).toBeGreaterThan(10_000);
    let previousLine = 0;
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i]!;
      if (chunk.ordinal !== i || chunk.tokenCount > 256 || chunk.tokenCount < 1 || chunk.lineStart === null) throw new Error(`bad chunk ${i}`);
      // Reading order is kept (overlapping pieces of one block share its line).
      if (chunk.lineStart < previousLine) throw new Error(`chunk ${i} goes back`);
      previousLine = chunk.lineStart;
    }
    // Spot-check exact counts rather than recount 20 MB.
    for (let i = 0; i < chunks.length; i += 997) expect(chunks[i]!.tokenCount).toBe(approximateTokenCount(chunks[i]!.text));
  });
});
