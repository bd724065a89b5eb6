import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DocumentParser } from '../../src-main/core/library/parse/documentParser';
import { DocumentProblem, type DocumentProblemCode } from '../../src-main/core/library/types';
import { PDF_TITLE, writeDocFixtures, writeLargeText, writeZipBombDocx, type DocFixtures } from '../support/docFixtures';
import { assertBuilt } from '../support/server';
import { tempDir } from '../support/tempDir';

const root = fileURLToPath(new URL('../..', import.meta.url));
const workerPath = join(root, 'src-main/core/library/parse/parseWorker.ts');

async function problemOf(promise: Promise<unknown>): Promise<DocumentProblem> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DocumentProblem) return error;
    throw error;
  }
  throw new Error('expected a DocumentProblem, but the parse succeeded');
}

describe('DocumentParser (child-process sandbox)', () => {
  let dir: ReturnType<typeof tempDir>;
  let fixtures: DocFixtures;
  let largeText: string;
  let parser: DocumentParser;
  beforeAll(async () => {
    dir = tempDir();
    fixtures = await writeDocFixtures(dir.path);
    largeText = join(dir.path, 'large.txt');
    await writeLargeText(largeText, 20 * 1024 * 1024);
    parser = new DocumentParser({ workerPath });
  });
  afterAll(async () => {
    await parser.dispose();
    dir.cleanup();
  });

  it('parses a PDF in the parser process', async () => {
    const doc = await parser.parse(fixtures.pdf);
    expect(doc).toMatchObject({ format: 'pdf', title: PDF_TITLE, pageCount: 3 });
    expect(doc.blocks.map((block) => block.page)).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3]);
  });

  it('brings document problems back across the process boundary as DocumentProblem', async () => {
    expect(await problemOf(parser.parse(fixtures.encryptedPdf))).toMatchObject({ code: 'ENCRYPTED' });
    expect(await problemOf(parser.parse(fixtures.scannedPdf))).toMatchObject({ code: 'NO_TEXT' });
    expect(await problemOf(parser.parse(fixtures.empty))).toMatchObject({ code: 'EMPTY' });
  });

  it('serves concurrent requests one at a time, each with its own answer', async () => {
    const [markdown, csv, docx, empty] = await Promise.allSettled([
      parser.parse(fixtures.markdown),
      parser.parse(fixtures.csv),
      parser.parse(fixtures.docx),
      parser.parse(fixtures.whitespace),
    ]);
    expect(markdown).toMatchObject({ status: 'fulfilled', value: { format: 'markdown' } });
    expect(csv).toMatchObject({ status: 'fulfilled', value: { format: 'csv' } });
    expect(docx).toMatchObject({ status: 'fulfilled', value: { format: 'docx', title: 'Harbour Survey 2024' } });
    expect(empty).toMatchObject({ status: 'rejected', reason: { code: 'EMPTY' } });
  });

  it('parses a 20 MB text file within the default limits', async () => {
    const doc = await parser.parse(largeText);
    expect(doc.format).toBe('text');
    expect(doc.blocks.length).toBeGreaterThan(10_000);
    expect(doc.blocks[0]?.lineStart).toBe(1);
    const last = doc.blocks[doc.blocks.length - 1];
    expect(last?.lineEnd).toBeGreaterThan(100_000);
    expect(last?.text).toMatch(/number \d+\.$/);
  });

  it('a file that takes too long is TIMEOUT; the parser process is replaced and the next file parses', async () => {
    const impatient = new DocumentParser({ workerPath, timeoutMs: 150 });
    try {
      const problem = await problemOf(impatient.parse(largeText));
      expect(problem).toMatchObject({ code: 'TIMEOUT', message: 'took longer than 0.2 s to parse' });
      const doc = await impatient.parse(fixtures.markdown);
      expect(doc.title).toBe('Field Guide to Tidepools');
    } finally {
      await impatient.dispose();
    }
  });

  it('a DOCX zip bomb does not take down the process, and the next file parses', async () => {
    const bomb = join(dir.path, 'bomb.docx');
    await writeZipBombDocx(bomb, 300);
    const small = new DocumentParser({ workerPath, maxMemoryMb: 128 });
    try {
      const problem = await problemOf(small.parse(bomb));
      expect<DocumentProblemCode[]>(['OUT_OF_MEMORY', 'CORRUPT']).toContain(problem.code);
      expect((await small.parse(fixtures.docx)).title).toBe('Harbour Survey 2024');
    } finally {
      await small.dispose();
    }
  });

  it('a document that outgrows the parser heap is OUT_OF_MEMORY; a fresh parser process parses the next file', async () => {
    // About a million small elements: far more DOM than a 64 MB heap holds, in allocations small enough to stop cleanly.
    const html = join(dir.path, 'huge.html');
    writeFileSync(html, `<html><body>${`<div>${'<p>tide</p>'.repeat(1000)}</div>`.repeat(700)}</body></html>`);
    const small = new DocumentParser({ workerPath, maxMemoryMb: 64 });
    try {
      const problem = await problemOf(small.parse(html));
      expect(problem).toMatchObject({ code: 'OUT_OF_MEMORY', message: expect.stringMatching(/64 MB/) });
      expect((await small.parse(fixtures.csv)).format).toBe('csv');
    } finally {
      await small.dispose();
    }
  });

  it('an abort rejects with the signal reason, stops the parser process, and the next file parses', async () => {
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    const parsing = parser.parse(largeText, { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 30);
    await expect(parsing).rejects.toBe(reason);

    // Aborted while waiting its turn, or before it was asked: rejected without touching the parser process.
    const queuedController = new AbortController();
    const first = parser.parse(fixtures.markdown);
    const queued = parser.parse(fixtures.csv, { signal: queuedController.signal });
    queuedController.abort(reason);
    await expect(queued).rejects.toBe(reason);
    await expect(parser.parse(fixtures.csv, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect((await first).format).toBe('markdown');
    expect((await parser.parse(fixtures.html)).encoding).toBe('windows-1252');
  });

  it('real memory exhaustion past the guards kills only the parser process; the next file parses', async () => {
    // 1. A 300 KB CSV that every guard lets through (50k cells, far under the line budget) but whose
    //    rows each become a 200 KB block: 50 columns with 4,000-character names, repeated per row.
    //    About 200 MB of block text, grown a row at a time, in a 64 MB heap.
    const amplifier = join(dir.path, 'amplifier.csv');
    const columns = Array.from({ length: 50 }, (_, i) => `${'c'.repeat(4000)}${i}`);
    writeFileSync(amplifier, [columns.join(','), ...Array.from({ length: 1000 }, () => columns.map(() => 'v').join(','))].join('\n'));
    // 2. A 96 MB text file (under the 200 MB size limit): decoding it is one string far past the
    //    heap limit, the kind of allocation that aborted the whole process when parsers ran in a
    //    worker thread, guards or not.
    const huge = join(dir.path, 'huge.txt');
    writeFileSync(huge, Buffer.alloc(96 * 1024 * 1024, 'Anemones close when the tide goes out.\n'));

    const small = new DocumentParser({ workerPath, maxMemoryMb: 64 });
    try {
      // OUT_OF_MEMORY exactly: a guard firing first would say TOO_LARGE, and the child would not have died.
      expect(await problemOf(small.parse(amplifier))).toMatchObject({ code: 'OUT_OF_MEMORY', message: 'needs more than the 64 MB the parser may use' });
      expect((await small.parse(fixtures.markdown)).title).toBe('Field Guide to Tidepools');
      expect(await problemOf(small.parse(huge))).toMatchObject({ code: 'OUT_OF_MEMORY', message: 'needs more than the 64 MB the parser may use' });
      expect((await small.parse(fixtures.csv)).format).toBe('csv');
    } finally {
      await small.dispose();
    }
  });

  it('a parser entry that cannot start rejects with the reason from its stderr', async () => {
    const broken = new DocumentParser({ workerPath: join(dir.path, 'missing-entry.js') });
    try {
      await expect(broken.parse(fixtures.markdown)).rejects.toThrow(/failed to start \(exit code 1\)[\s\S]*Cannot find module/);
    } finally {
      await broken.dispose();
    }
  });

  it('an idle parser does not keep its host process alive, and its child goes with it', async () => {
    // A host that parses one file and never disposes must still exit on its own.
    const script = [
      `const { DocumentParser } = await import(${JSON.stringify(pathToFileURL(join(root, 'src-main/core/library/parse/documentParser.ts')).href)});`,
      `const parser = new DocumentParser({ workerPath: ${JSON.stringify(workerPath)} });`,
      `const doc = await parser.parse(${JSON.stringify(fixtures.markdown)});`,
      `console.log(doc.title);`,
    ].join('\n');
    const host = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    host.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    host.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        host.kill('SIGKILL');
        reject(new Error(`the host process did not exit after its parse:\n${output}`));
      }, 30_000);
      host.on('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect({ code, output: output.trim() }).toEqual({ code: 0, output: 'Field Guide to Tidepools' });
  });

  it('the built parseWorker.js runs as the parser process', async () => {
    assertBuilt();
    const built = new DocumentParser({ workerPath: join(root, 'out/main/parseWorker.js') });
    try {
      expect((await built.parse(fixtures.markdown)).title).toBe('Field Guide to Tidepools');
      expect((await built.parse(fixtures.pdf)).pageCount).toBe(3);
    } finally {
      await built.dispose();
    }
  });

  it('rejects parses after dispose', async () => {
    const disposable = new DocumentParser({ workerPath });
    expect((await disposable.parse(fixtures.utf8Text)).format).toBe('text');
    await disposable.dispose();
    await expect(disposable.parse(fixtures.utf8Text)).rejects.toThrow(/disposed/);
  });
});
