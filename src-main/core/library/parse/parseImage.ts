import { DocumentProblem, type ParsedDocument } from '../types';
import { ocrBlocks, recognizeText } from './ocr';
import type { ParseContext } from './parseFile';

/** PNG and JPEG images: their text read by OCR when it is on; skipped (UNSUPPORTED) when it is off. */
export async function parseImage(bytes: Uint8Array, _path: string, context: ParseContext): Promise<ParsedDocument> {
  if (!context.ocr) throw new DocumentProblem('UNSUPPORTED', 'is an image; turn on OCR (Documents › Read scans with OCR) to read the text in it');
  checkImage(bytes);
  const blocks = ocrBlocks(await recognizeText(bytes, context.ocr));
  return { format: 'image', title: null, blocks, warnings: [] };
}

/** Only real PNG and JPEG files reach the recognizer: anything else with such a name is CORRUPT. */
function checkImage(bytes: Uint8Array): void {
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((byte, i) => bytes[i] === byte);
  const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (!png && !jpeg) throw new DocumentProblem('CORRUPT', 'is not a readable PNG or JPEG image');
}
