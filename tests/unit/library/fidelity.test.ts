import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FOOTNOTES_HEADING } from '../../../src-main/core/library/parse/docxParts';
import { parseFile } from '../../../src-main/core/library/parse/parseFile';
import { RUNNING_HEADING } from '../../../src-main/core/library/parse/runningText';
import type { Block } from '../../../src-main/core/library/types';
import { DOCX_FOOTER, DOCX_FOOTNOTE, DOCX_HEADER, DOCX_IMAGE_ALT, PDF_RUNNING_HEADER, writeFidelityFixtures, type FidelityFixtures } from '../../support/fidelityFixtures';
import { tempDir } from '../../support/tempDir';

const parse = (path: string) => parseFile(path, { maxBytes: 50 * 1024 * 1024 });

/** What extraction keeps besides the body: notes, headers, footers, alt text; and text runs joined as written. */
describe('extraction fidelity', () => {
  let dir: ReturnType<typeof tempDir>;
  let fixtures: FidelityFixtures;
  beforeAll(async () => {
    dir = tempDir();
    fixtures = await writeFidelityFixtures(dir.path);
  });
  afterAll(() => dir.cleanup());

  it('DOCX: the footnote, header and footer follow the body under their own headings; the image description is kept', async () => {
    const doc = await parse(fixtures.docx);
    expect(doc.blocks).toEqual<Block[]>([
      { kind: 'paragraph', text: 'The pier is 40 m long[1].' },
      { kind: 'paragraph', text: 'Water is H2O.' },
      { kind: 'paragraph', text: DOCX_IMAGE_ALT },
      { kind: 'heading', level: 1, text: FOOTNOTES_HEADING },
      { kind: 'paragraph', text: `[1] ${DOCX_FOOTNOTE}` },
      { kind: 'heading', level: 1, text: RUNNING_HEADING },
      { kind: 'paragraph', text: DOCX_HEADER },
      // "Page <n>" is a page number, not text worth finding.
      { kind: 'paragraph', text: DOCX_FOOTER },
    ]);
  });

  it('PDF: subscripts and superscripts join their word; the running header is read once, apart, and page numbers are dropped', async () => {
    const doc = await parse(fixtures.pdf);
    const text = doc.blocks.map((block) => block.text);
    expect(text.filter((line) => line.startsWith('Sulphuric'))).toEqual([
      'Sulphuric acid is H2SO4 and energy is E = mc2 near the reactor vessel.',
      'Sulphuric acid is H2SO4 and energy is E = mc2 near the cooling loop.',
      'Sulphuric acid is H2SO4 and energy is E = mc2 near the sample store.',
    ]);
    expect(doc.blocks.slice(-2)).toEqual<Block[]>([
      { kind: 'heading', level: 1, text: RUNNING_HEADING, page: 1 },
      { kind: 'paragraph', text: PDF_RUNNING_HEADER, page: 1 },
    ]);
    expect(text.filter((line) => line.includes(PDF_RUNNING_HEADER))).toHaveLength(1);
    expect(text.join('\n')).not.toMatch(/Page \d of 3/);
    expect(doc.blocks.filter((block) => block.text.startsWith('Body text')).map((block) => block.page)).toEqual([1, 2, 3]);
    expect(doc.title).toBeNull();
  });

  it('HTML: images read as their alt text, decorative ones (alt="") as nothing, in paragraphs, lists and figures', async () => {
    const doc = await parse(fixtures.html);
    expect(doc.blocks).toEqual<Block[]>([
      { kind: 'heading', level: 1, text: 'Harbour gallery' },
      { kind: 'paragraph', text: 'The old pier at dawn: Fishing boats moored along the old pier taken in May.' },
      { kind: 'paragraph', text: 'Brass lantern on the lighthouse gallery' },
      { kind: 'paragraph', text: 'The lamp room.' },
      { kind: 'list', text: '- Warning: Keep off the breakwater in storms' },
    ]);
  });
});
