import { writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, describe, expect, it } from 'vitest';
import { documentContentType } from '../../src-main/cli/documentContentType';
import { tempDir } from '../support/tempDir';

const UTF8 = 'Notes: naïve façade, 日本語, waves 🌊.\n';
const LATIN = 'Le café du coin – “quotes”, déjà vu.\n';

/** "Open file": what a browser is told about each original, and what it then reads from the bytes served. */
describe('documentContentType', () => {
  const dir = tempDir('hearth-doctype-');
  afterAll(() => dir.cleanup());
  const file = (name: string, bytes: string | Uint8Array): string => {
    const path = join(dir.path, name);
    writeFileSync(path, bytes);
    return path;
  };

  /** The type for the file, and the file's text as the bytes streamed after it decode with that charset (iconv-lite reads the labels as browsers do, BOM dropped). */
  async function served(path: string): Promise<{ type: string; inline: boolean; text: string | null }> {
    const handle = await open(path, 'r');
    try {
      const { type, inline } = await documentContentType(path, handle);
      const chunks: Buffer[] = [];
      for await (const chunk of handle.createReadStream({ autoClose: false })) chunks.push(chunk as Buffer);
      const charset = /charset=([^;]+)/.exec(type)?.[1];
      return { type, inline, text: charset ? iconv.decode(Buffer.concat(chunks), charset) : null };
    } finally {
      await handle.close();
    }
  }

  it('names the charset of text files, detected as the parser detects it, so nothing shows as mojibake', async () => {
    expect(await served(file('notes.md', UTF8))).toEqual({ type: 'text/plain; charset=utf-8', inline: true, text: UTF8 });
    expect(await served(file('cafe.txt', iconv.encode(LATIN, 'windows-1252')))).toEqual({ type: 'text/plain; charset=windows-1252', inline: true, text: LATIN });
    const bom = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(UTF8, 'utf16le')]);
    expect(await served(file('wide.txt', bom))).toMatchObject({ type: 'text/plain; charset=utf-16le', text: UTF8 });
    expect(await served(file('wide-nobom.csv', Buffer.from('a,b\nZürich,façade\n'.repeat(20), 'utf16le')))).toMatchObject({ type: 'text/plain; charset=utf-16le' });
  });

  it('a UTF-8 character cut by the end of the sample still reads as UTF-8', async () => {
    const text = `${'a'.repeat(64 * 1024 - 1)}é and more\n`;
    expect(await served(file('long.log', text))).toEqual({ type: 'text/plain; charset=utf-8', inline: true, text });
  });

  it('PDFs open in the viewer; HTML and unknown kinds are downloads, never rendered', async () => {
    expect(await served(file('manual.pdf', '%PDF-1.7\n'))).toMatchObject({ type: 'application/pdf', inline: true });
    expect(await served(file('page.html', '<script>alert(1)</script>'))).toMatchObject({ type: 'application/octet-stream', inline: false });
    expect(await served(file('book.epub', 'PK'))).toMatchObject({ type: 'application/octet-stream', inline: false });
  });
});
