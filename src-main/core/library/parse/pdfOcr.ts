import type * as PdfJs from 'pdfjs-dist/legacy/build/pdf.mjs';
import type { Block } from '../types';
import { ocrBlocks, recognizeText, type OcrLimits } from './ocr';

/** Pages are rendered at about 200 dots per inch, what OCR reads body text well at... */
const OCR_DPI = 200;
/** ...but never larger than this on their longer side (a poster-sized page would not fit memory). */
const MAX_SIDE_PX = 3000;

/** The piece of pdf.js's Node canvas (@napi-rs/canvas) that rendering needs. */
interface NodeCanvas {
  canvas: { toBuffer(mime: 'image/png'): Buffer };
  context: unknown;
}
interface CanvasFactory {
  create(width: number, height: number): NodeCanvas;
  destroy(canvas: NodeCanvas): void;
}

/**
 * Reads a page without a text layer (a scan) by OCR: pdf.js renders it to pixels (in Node on its
 * own canvas, @napi-rs/canvas) and tesseract reads them. Returns its paragraphs as blocks on the page.
 */
export async function ocrPage(pdf: PdfJs.PDFDocumentProxy, number: number, limits: OcrLimits): Promise<Block[]> {
  const page = await pdf.getPage(number);
  try {
    const base = page.getViewport({ scale: 1 });
    const scale = Math.min(OCR_DPI / 72, MAX_SIDE_PX / Math.max(base.width, base.height));
    const viewport = page.getViewport({ scale });
    const factory = (pdf as unknown as { canvasFactory: CanvasFactory }).canvasFactory;
    const target = factory.create(Math.ceil(viewport.width), Math.ceil(viewport.height));
    let png: Buffer;
    try {
      await page.render({ canvasContext: target.context, viewport } as unknown as Parameters<typeof page.render>[0]).promise;
      png = target.canvas.toBuffer('image/png');
    } finally {
      factory.destroy(target);
    }
    return ocrBlocks(await recognizeText(png, limits), number);
  } finally {
    page.cleanup();
  }
}
