/**
 * Documents that test what extraction keeps beyond body text: Word headers, footers and notes,
 * HTML alt text, PDF subscripts and running headers. Real files, written with docx and pdf-lib.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Document, Footer, FootnoteReferenceRun, Header, ImageRun, Packer, PageNumber, Paragraph, TextRun } from 'docx';
import { PDFDocument, StandardFonts, type PDFFont, type PDFPage } from 'pdf-lib';

export interface FidelityFixtures {
  /** Header, footer with a page number, a footnote, an image with a description. */
  docx: string;
  /** Three pages, each with the same running header, a "Page n of 3" footer and a sub- and superscript. */
  pdf: string;
  html: string;
}

export const DOCX_HEADER = 'Confidential harbour report';
export const DOCX_FOOTER = 'Port Authority of Westhaven';
export const DOCX_FOOTNOTE = 'Measured by the harbour authority in 2023.';
export const DOCX_IMAGE_ALT = 'Aerial photograph of the breakwater';
export const PDF_RUNNING_HEADER = 'Acme Chemistry Manual · Internal';

export async function writeFidelityFixtures(dir: string): Promise<FidelityFixtures> {
  const fixtures: FidelityFixtures = { docx: join(dir, 'report.docx'), pdf: join(dir, 'chemistry.pdf'), html: join(dir, 'gallery.html') };
  await Promise.all([writeFile(fixtures.docx, await notesDocx()), writeFile(fixtures.pdf, await chemistryPdf()), writeFile(fixtures.html, GALLERY_HTML)]);
  return fixtures;
}

async function notesDocx(): Promise<Buffer> {
  const doc = new Document({
    footnotes: { 1: { children: [new Paragraph(DOCX_FOOTNOTE)] } },
    sections: [
      {
        headers: { default: new Header({ children: [new Paragraph(DOCX_HEADER)] }) },
        footers: {
          default: new Footer({
            children: [new Paragraph({ children: [new TextRun('Page '), new TextRun({ children: [PageNumber.CURRENT] })] }), new Paragraph(DOCX_FOOTER)],
          }),
        },
        children: [
          new Paragraph({ children: [new TextRun('The pier is 40 m long'), new FootnoteReferenceRun(1), new TextRun('.')] }),
          new Paragraph({ children: [new TextRun('Water is H'), new TextRun({ text: '2', subScript: true }), new TextRun('O.')] }),
          new Paragraph({
            children: [new ImageRun({ type: 'png', data: onePixelPng(), transformation: { width: 40, height: 40 }, altText: { name: 'breakwater', title: 'Breakwater', description: DOCX_IMAGE_ALT } })],
          }),
        ],
      },
    ],
  });
  return Packer.toBuffer(doc);
}

/**
 * Text drawn run by run, each at its own size and baseline, as word processors export sub- and
 * superscripts: with a gap of 1.3 pt around a raised or lowered run (small beside 11 pt type, but
 * wider than 15 % of the run's own 7 pt).
 */
function drawRuns(page: PDFPage, font: PDFFont, y: number, runs: readonly [text: string, size: number, rise: number][]): void {
  let x = 56;
  for (const [text, size, rise] of runs) {
    const shifted = rise !== 0;
    if (shifted) x += 1.3;
    page.drawText(text, { x, y: y + rise, size, font });
    x += font.widthOfTextAtSize(text, size) + (shifted ? 1.3 : 0);
  }
}

async function chemistryPdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const topics = ['the reactor vessel', 'the cooling loop', 'the sample store'];
  topics.forEach((topic, i) => {
    const page = doc.addPage([595, 842]);
    page.drawText(PDF_RUNNING_HEADER, { x: 56, y: 800, size: 9, font });
    drawRuns(page, font, 700, [
      ['Sulphuric acid is H', 11, 0],
      ['2', 7, -4],
      ['SO', 11, 0],
      ['4', 7, -4],
      [' and energy is E = mc', 11, 0],
      ['2', 7, 4.5],
      [` near ${topic}.`, 11, 0],
    ]);
    page.drawText(`Body text of page ${i + 1} about ${topic}.`, { x: 56, y: 680, size: 11, font });
    page.drawText(`Page ${i + 1} of ${topics.length}`, { x: 270, y: 40, size: 9, font });
  });
  return doc.save();
}

const GALLERY_HTML = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Harbour gallery</title></head>
<body><main>
<h1>Harbour gallery</h1>
<p>The old pier at dawn: <img src="pier.jpg" alt="Fishing boats moored along the old pier"> taken in May.</p>
<figure><img src="spacer.gif" alt=""><img src="lamp.png" alt="Brass lantern on the lighthouse gallery"><figcaption>The lamp room.</figcaption></figure>
<ul><li><img src="icon.png" alt="Warning:"> Keep off the breakwater in storms</li></ul>
</main></body></html>
`;

/** A 1×1 white PNG. */
function onePixelPng(): Buffer {
  return Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==', 'base64');
}
