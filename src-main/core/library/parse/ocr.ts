import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Worker as TesseractWorker } from 'tesseract.js';
import { DocumentProblem, type Block } from '../types';

/** What OCR may use: the parse's deadline and the parser process's memory limit. */
export interface OcrLimits {
  /** Date.now() past which no more pages are started (the parser process is killed at its time-out anyway). */
  deadline: number;
  /** The most resident memory the parser process may reach while recognizing, in bytes. */
  maxRssBytes: number;
}

/** Why a scanned PDF is not indexed while OCR is off. */
export const NEEDS_OCR = 'has no text layer: it looks scanned (image-only); turn on OCR (Documents › Read scans with OCR) to read it';

/** How often resident memory is checked while a page is being recognized. */
const MEMORY_CHECK_MS = 100;

let engine: Promise<TesseractWorker> | null = null;

/**
 * The English recognizer, started once per parser process: tesseract.js with its WebAssembly core
 * and worker from node_modules and the English data from @tesseract.js-data/eng on disk. Nothing
 * is fetched (langPath is a folder, so tesseract.js reads it from disk) and nothing is cached to disk.
 */
function recognizer(): Promise<TesseractWorker> {
  engine ??= (async () => {
    const require = createRequire(import.meta.url);
    const langPath = join(dirname(require.resolve('@tesseract.js-data/eng/package.json')), '4.0.0_best_int');
    const { createWorker, OEM } = await import('tesseract.js');
    return createWorker('eng', OEM.LSTM_ONLY, { langPath, gzip: true, cacheMethod: 'none', errorHandler: () => undefined });
  })();
  engine.catch(() => {
    engine = null;
  });
  return engine;
}

/**
 * The text in an image (PNG, JPEG, BMP, ...), as paragraphs. Refused past the deadline, and
 * OUT_OF_MEMORY when the process's resident memory is past the limit as recognition starts or
 * passes it while it runs: the recognizer's WebAssembly memory lies outside the JavaScript heap
 * that --max-old-space-size bounds.
 */
export async function recognizeText(image: Uint8Array, limits: OcrLimits): Promise<string[]> {
  if (Date.now() >= limits.deadline) throw new DocumentProblem('TIMEOUT', 'ran out of time for OCR');
  const worker = await recognizer();
  /** OUT_OF_MEMORY past the limit; the recognizer's state is suspect then: the next file starts a fresh one. */
  const memoryProblem = (): DocumentProblem | null => {
    if (process.memoryUsage.rss() <= limits.maxRssBytes) return null;
    void worker.terminate().catch(() => undefined);
    engine = null;
    return new DocumentProblem('OUT_OF_MEMORY', `needs more than the ${Math.round(limits.maxRssBytes / (1024 * 1024))} MB the parser may use for OCR`);
  };
  // Checked once before it starts too: a small image can be read within one check interval.
  const before = memoryProblem();
  if (before) throw before;
  let timer: NodeJS.Timeout | undefined;
  const overMemory = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      const problem = memoryProblem();
      if (problem) reject(problem);
    }, MEMORY_CHECK_MS);
  });
  try {
    const result = await Promise.race([worker.recognize(Buffer.from(image.buffer, image.byteOffset, image.byteLength)), overMemory]);
    return ocrParagraphs(result.data.text);
  } finally {
    clearInterval(timer);
  }
}

/** tesseract's text: lines within a paragraph, a blank line between paragraphs. Words hyphenated at a line end are joined. */
export function ocrParagraphs(text: string): string[] {
  return text
    .split(/\n\s*\n/)
    .map((paragraph) =>
      paragraph
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean)
        .reduce((joined, line) => (!joined ? line : /[a-z]-$/.test(joined) && /^[a-z]/.test(line) ? joined.slice(0, -1) + line : `${joined} ${line}`), ''),
    )
    .filter((paragraph) => /[\p{L}\p{N}]{2}/u.test(paragraph));
}

/** Paragraphs read by OCR as blocks, on a page when the image was one. */
export function ocrBlocks(paragraphs: readonly string[], page?: number): Block[] {
  return paragraphs.map((text): Block => (page === undefined ? { kind: 'paragraph', text } : { kind: 'paragraph', text, page }));
}
