import chardet from 'chardet';
import iconv from 'iconv-lite';
import { DocumentProblem } from '../types';

export interface DecodedText {
  text: string;
  /** The encoding the bytes were read as, e.g. "UTF-8", "UTF-16LE", "windows-1252". */
  encoding: string;
}

/** How much of a file the binary check and the charset detector look at; enough to decide, cheap on 200 MB files. */
const SAMPLE_BYTES = 64 * 1024;

/**
 * Turns a text file's bytes into a string: BOM first, then strict UTF-8, then a detected legacy
 * charset. Throws UNSUPPORTED for binary content, so a renamed binary is not indexed as mojibake.
 */
export function decodeText(bytes: Uint8Array): DecodedText {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { text: new TextDecoder('utf-8').decode(bytes.subarray(3)), encoding: 'UTF-8' };
  }
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { text: decodeUtf16(bytes.subarray(2), 'utf-16le'), encoding: 'UTF-16LE' };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { text: decodeUtf16(bytes.subarray(2), 'utf-16be'), encoding: 'UTF-16BE' };

  const sample = bytes.subarray(0, SAMPLE_BYTES);
  if (sample.includes(0)) {
    // NULs mean binary, unless they sit in every other byte: UTF-16 text written without a BOM.
    const utf16 = utf16WithoutBom(sample);
    if (utf16 === 'utf-16le') return { text: decodeUtf16(bytes, 'utf-16le'), encoding: 'UTF-16LE' };
    if (utf16 === 'utf-16be') return { text: decodeUtf16(bytes, 'utf-16be'), encoding: 'UTF-16BE' };
    throw new DocumentProblem('UNSUPPORTED', 'looks like a binary file');
  }

  const utf8 = strictUtf8(bytes);
  if (utf8 !== null) return { text: utf8, encoding: 'UTF-8' };

  const detected = chardet.detect(sample);
  const encoding = legacyEncodingName(detected);
  if (encoding === 'UTF-8') return { text: new TextDecoder('utf-8').decode(bytes), encoding };
  return { text: iconv.decode(bytes, encoding), encoding };
}

/**
 * The charset to serve a text file with (a Content-Type `charset=` label), decided from its first
 * bytes the way decodeText reads it: BOM, then UTF-8 when the bytes are valid UTF-8 (a character
 * cut off at the sample's end does not count against it), then the detected legacy charset.
 */
export function textCharset(sample: Uint8Array): string {
  if (sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf) return 'utf-8';
  if (sample[0] === 0xff && sample[1] === 0xfe) return 'utf-16le';
  if (sample[0] === 0xfe && sample[1] === 0xff) return 'utf-16be';
  const head = sample.subarray(0, SAMPLE_BYTES);
  if (head.includes(0)) return utf16WithoutBom(head) ?? 'utf-8';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return 'utf-8';
  } catch {
    return legacyEncodingName(chardet.detect(head)).toLowerCase();
  }
}

/**
 * Maps a detected or declared charset label to the name Hearth decodes with: Latin-1 and
 * ASCII become windows-1252 (a superset that also has curly quotes and dashes, as browsers do).
 */
export function legacyEncodingName(label: string | null | undefined): string {
  if (!label) return 'windows-1252';
  const lower = label.trim().toLowerCase();
  if (['iso-8859-1', 'iso8859-1', 'latin1', 'latin-1', 'l1', 'us-ascii', 'ascii', 'cp1252', 'windows-1252'].includes(lower)) return 'windows-1252';
  if (lower === 'utf-8' || lower === 'utf8') return 'UTF-8';
  if (!iconv.encodingExists(lower)) return 'windows-1252';
  return label.trim();
}

function strictUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

function decodeUtf16(bytes: Uint8Array, label: 'utf-16le' | 'utf-16be'): string {
  return new TextDecoder(label).decode(bytes);
}

/** UTF-16 without a BOM: ASCII-heavy text has a NUL in (nearly) every high byte and few in the low ones. */
function utf16WithoutBom(sample: Uint8Array): 'utf-16le' | 'utf-16be' | null {
  const pairs = Math.floor(sample.length / 2);
  if (pairs < 2) return null;
  let evenNuls = 0;
  let oddNuls = 0;
  for (let i = 0; i + 1 < sample.length; i += 2) {
    if (sample[i] === 0) evenNuls++;
    if (sample[i + 1] === 0) oddNuls++;
  }
  if (oddNuls >= pairs * 0.4 && evenNuls <= pairs * 0.02) return 'utf-16le';
  if (evenNuls >= pairs * 0.4 && oddNuls <= pairs * 0.02) return 'utf-16be';
  return null;
}
