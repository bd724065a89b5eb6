import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { decodeText, legacyEncodingName } from '../../../src-main/core/library/parse/decodeText';
import { DocumentProblem } from '../../../src-main/core/library/types';
import { LATIN1_TEXT } from '../../support/docFixtures';

const SAMPLE = 'Zürich façade, Ελληνικά, 中文 🌊\nsecond line';

describe('decodeText', () => {
  it('reads UTF-8 with and without a BOM, dropping the BOM', () => {
    expect(decodeText(Buffer.from(SAMPLE))).toEqual({ text: SAMPLE, encoding: 'UTF-8' });
    expect(decodeText(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(SAMPLE)]))).toEqual({ text: SAMPLE, encoding: 'UTF-8' });
    expect(decodeText(Buffer.from('plain ascii'))).toEqual({ text: 'plain ascii', encoding: 'UTF-8' });
  });

  it('reads UTF-16 by its BOM, either byte order', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(SAMPLE, 'utf16le')]);
    const be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(SAMPLE, 'utf16le').swap16()]);
    expect(decodeText(le)).toEqual({ text: SAMPLE, encoding: 'UTF-16LE' });
    expect(decodeText(be)).toEqual({ text: SAMPLE, encoding: 'UTF-16BE' });
  });

  it('recognises UTF-16 written without a BOM by where its NUL bytes sit', () => {
    const text = 'A note saved by an old Windows tool, with no byte order mark at all.';
    expect(decodeText(Buffer.from(text, 'utf16le'))).toEqual({ text, encoding: 'UTF-16LE' });
    expect(decodeText(Buffer.from(text, 'utf16le').swap16())).toEqual({ text, encoding: 'UTF-16BE' });
  });

  it('decodes Windows-1252 text (curly quotes, en dash) and names it so', () => {
    expect(decodeText(iconv.encode(LATIN1_TEXT, 'windows-1252'))).toEqual({ text: LATIN1_TEXT, encoding: 'windows-1252' });
  });

  it('decodes text detected as ISO-8859-1 as its superset windows-1252', () => {
    const text = 'Grüße aus München, schöne Straße und ein großes Dankeschön für die Äpfel.';
    expect(decodeText(iconv.encode(text, 'latin1'))).toEqual({ text, encoding: 'windows-1252' });
  });

  it('detects other legacy encodings', () => {
    const text = '日本語のテキストです。これはシフトJISで書かれた長めの文章で、文字コードの判定を試します。東京は晴れ、大阪は雨でした。';
    const decoded = decodeText(iconv.encode(text, 'Shift_JIS'));
    expect(decoded.text).toBe(text);
    expect(decoded.encoding).toMatch(/shift_jis/i);
  });

  it('refuses binary content as UNSUPPORTED', () => {
    const binary = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x3e, 0x00, 0x01, 0x00, 0xff, 0x10]);
    let problem: unknown;
    try {
      decodeText(binary);
    } catch (error) {
      problem = error;
    }
    expect(problem).toBeInstanceOf(DocumentProblem);
    expect(problem).toMatchObject({ code: 'UNSUPPORTED', message: 'looks like a binary file' });
  });

  it('maps charset labels to the decoder Hearth uses', () => {
    expect(legacyEncodingName('ISO-8859-1')).toBe('windows-1252');
    expect(legacyEncodingName('us-ascii')).toBe('windows-1252');
    expect(legacyEncodingName('utf8')).toBe('UTF-8');
    expect(legacyEncodingName('windows-1251')).toBe('windows-1251');
    expect(legacyEncodingName('no-such-charset')).toBe('windows-1252');
    expect(legacyEncodingName(null)).toBe('windows-1252');
  });
});
