import JSZip from 'jszip';
import { DocumentProblem } from '../types';
import { memoryBudget } from './memoryBudget';

/** Entries that are never read as text: images, fonts, media, embedded files. */
const BINARY_ENTRY = /(?:^|\/)media\/|\.(?:png|jpe?g|gif|bmp|tiff?|webp|svg|emf|wmf|ico|ttf|otf|woff2?|eot|mp3|mp4|m4a|ogg|wav|webm|css|js|bin|xlsx|xlsm|docx|pptx|odt|pdf)$/i;

/**
 * Opens a zip-based document (DOCX, EPUB) and checks what its text entries really inflate to,
 * by streaming them, before any library holds them whole. Sizes in the zip's headers are not
 * trusted: a zip bomb lies about them.
 */
export async function openZip(bytes: Uint8Array, what: string): Promise<JSZip> {
  let zip: JSZip;
  try {
    zip = await JSZip.loadAsync(bytes);
  } catch (error) {
    throw new DocumentProblem('CORRUPT', `is not a valid ${what} (not a readable zip archive): ${error instanceof Error ? error.message : String(error)}`);
  }
  const budget = memoryBudget().markupBytes;
  let total = 0;
  for (const entry of Object.values(zip.files)) {
    if (entry.dir || BINARY_ENTRY.test(entry.name)) continue;
    try {
      total += await inflatedSize(entry, budget - total);
    } catch (error) {
      throw new DocumentProblem('CORRUPT', `is not a valid ${what}: ${entry.name} cannot be unpacked (${error instanceof Error ? error.message : String(error)})`);
    }
    if (total > budget) {
      throw new DocumentProblem('OUT_OF_MEMORY', `expands to more than ${Math.round(budget / (1024 * 1024))} MB of text, more than the parser can hold (a zip bomb?)`);
    }
  }
  return zip;
}

/** Inflates an entry chunk by chunk, keeping nothing, and stops once it passes `limit` bytes. */
function inflatedSize(entry: JSZip.JSZipObject, limit: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const stream = entry.nodeStream('nodebuffer');
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stream.pause();
        stream.removeAllListeners();
        resolve(size);
      }
    });
    stream.on('end', () => resolve(size));
    stream.on('error', reject);
  });
}
