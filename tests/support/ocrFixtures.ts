/**
 * Scans for the OCR tests: text typeset into a PDF with pdf-lib, rendered to pixels with pdf.js
 * (on its Node canvas), and the pixels saved as a PNG or as an image-only PDF page, so the only
 * way to the words is to read the picture.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';

export interface OcrFixtures {
  /** One image-only A4 page with SCANNED_LINES on it. */
  scannedPdf: string;
  /** A typed page, then a scanned strip with SCANNED_LINES. */
  mixedPdf: string;
  /** A PNG of a strip with SCANNED_LINES. */
  png: string;
  /** A PNG named .jpg that is not an image at all. */
  fakeJpeg: string;
}

export const SCANNED_LINES = ['The lighthouse keeper trims the lamp at dusk.', 'Fog signals sound every thirty seconds.'] as const;
export const TYPED_LINE = 'Typed cover letter about the harbour.';

const A4: [number, number] = [595, 842];
const STRIP: [number, number] = [595, 144];

interface NodeCanvas {
  canvas: { toBuffer(mime: 'image/png'): Buffer };
  context: unknown;
}

/** A picture of the lines at `dpi`, as a scanner would make of a printed page: A4, or a strip of paper 2 inches tall. */
async function scanOf(lines: readonly string[], dpi: number, size: [number, number]): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const page = doc.addPage(size);
  lines.forEach((line, i) => page.drawText(line, { x: 56, y: size[1] - 60 - i * 24, size: 14, font }));
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const pdf = await pdfjs.getDocument({ data: await doc.save(), isEvalSupported: false, verbosity: 0 }).promise;
  try {
    const rendered = await pdf.getPage(1);
    const viewport = rendered.getViewport({ scale: dpi / 72 });
    const factory = (pdf as unknown as { canvasFactory: { create(w: number, h: number): NodeCanvas } }).canvasFactory;
    const target = factory.create(Math.ceil(viewport.width), Math.ceil(viewport.height));
    await rendered.render({ canvasContext: target.context, viewport } as unknown as Parameters<typeof rendered.render>[0]).promise;
    return target.canvas.toBuffer('image/png');
  } finally {
    await pdf.destroy();
  }
}

async function imagePdf(png: Buffer, size: [number, number], typedFirst: boolean): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  if (typedFirst) {
    const font = await doc.embedFont(StandardFonts.Helvetica);
    doc.addPage([595, 842]).drawText(TYPED_LINE, { x: 56, y: 770, size: 11, font });
  }
  const image = await doc.embedPng(png);
  doc.addPage(size).drawImage(image, { x: 0, y: 0, width: size[0], height: size[1] });
  return doc.save();
}

export async function writeOcrFixtures(dir: string): Promise<OcrFixtures> {
  const fixtures: OcrFixtures = { scannedPdf: join(dir, 'scan.pdf'), mixedPdf: join(dir, 'letter.pdf'), png: join(dir, 'notice.png'), fakeJpeg: join(dir, 'photo.jpg') };
  const page = await scanOf(SCANNED_LINES, 150, A4);
  const strip = await scanOf(SCANNED_LINES, 150, STRIP);
  await Promise.all([
    writeFile(fixtures.scannedPdf, await imagePdf(page, A4, false)),
    writeFile(fixtures.mixedPdf, await imagePdf(strip, STRIP, true)),
    writeFile(fixtures.png, strip),
    writeFile(fixtures.fakeJpeg, 'not a jpeg at all'),
  ]);
  return fixtures;
}
