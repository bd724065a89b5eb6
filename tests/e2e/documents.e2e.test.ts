import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { E2E_OUT_DIR as outDir, screenshotOnFailure, startE2eApp } from '../support/e2eApp';
import type { ServeRun } from '../support/server';
import { tempDir, type TempDir } from '../support/tempDir';
import { testModelPath } from '../support/testModels';

/** Each file holds facts in words no other file uses, so a search for them has one right answer. */
const TEA = [
  '# Tea Ceremony',
  '',
  '## Brewing',
  '',
  'The copper kettle must heat oolong leaves at exactly 87 degrees for the ceremony.',
  '',
  '## Serving',
  '',
  'Guests receive porcelain cups painted with cranes.',
  '',
].join('\n');
const ORCHIDS = 'Greenhouse notes.\n\nThe orchids need misting every Tuesday with collected rainwater.\n';
const BICYCLE = '# Workshop\n\nThe red bicycle has a titanium frame and weighs seven kilograms.\n';
const PDF_PAGES = [
  ['Lighthouse Duties', 'The lamp is lit at dusk by the keeper on duty.'],
  ['Maintenance', 'The foghorn compressor is serviced every Thursday by the harbour engineer.'],
] as const;

async function writePdf(path: string): Promise<void> {
  const doc = await PDFDocument.create();
  doc.setTitle('Lighthouse Manual');
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const [heading, body] of PDF_PAGES) {
    const page = doc.addPage([595, 842]);
    page.drawText(heading, { x: 56, y: 770, size: 20, font });
    page.drawText(body, { x: 56, y: 730, size: 11, font });
  }
  writeFileSync(path, await doc.save());
}

/**
 * "Your documents" in real Chromium against `hearth serve`: make a collection, add a folder
 * by path, watch the one progress bar finish, read per-file statuses (an empty file is
 * skipped, with the reason), search, then chat scoped to the collection and follow a cited
 * source to its passage and its file.
 */
describe('documents and cited answers in the browser (e2e)', () => {
  let server: ServeRun;
  let page: Page;
  let data: TempDir;
  let docs: TempDir;
  const errors: string[] = [];

  beforeAll(async () => {
    const stories = await testModelPath('stories260K');
    docs = tempDir('hearth-e2e-docs-');
    writeFileSync(join(docs.path, 'tea-ceremony.md'), TEA);
    writeFileSync(join(docs.path, 'orchids.txt'), ORCHIDS);
    mkdirSync(join(docs.path, 'garage'));
    writeFileSync(join(docs.path, 'garage', 'bicycle.md'), BICYCLE);
    writeFileSync(join(docs.path, 'empty.txt'), '');
    await writePdf(join(docs.path, 'lighthouse.pdf'));

    const app = await startE2eApp({
      prefix: 'hearth-e2e-documents-',
      viewport: { width: 1280, height: 860 },
      errors,
      seed: async (core) => {
        const model = await core.models.add(stories);
        core.models.setDefault('chat', model.id);
        core.models.setDefault('embedding', model.id);
        // Short replies: the tiny model writes nonsense, and what matters here is the sources.
        core.settings.update({ maxReplyTokens: 48 });
      },
    });
    ({ server, page, data } = app);
    return async () => {
      await app.close();
      docs.cleanup();
    };
  });

  screenshotOnFailure(() => page, 'documents');

  const row = (name: string) => page.locator(`[data-testid="document-row"][data-path$="${name}"]`);
  const lastAssistant = () => page.locator('[data-testid="message"][data-role="assistant"]').last();
  /** Document ids by file name, read from the file table. */
  const documentIds = new Map<string, string>();

  it('opens Documents, creates a collection and adds a folder by path', async () => {
    await page.goto(server.url);
    await page.getByTestId('nav-documents').click();
    expect(new URL(page.url()).hash).toBe('#/documents');
    await expect.poll(() => page.getByTestId('documents-empty').count(), { timeout: 20_000 }).toBe(1);
    // The embedding model is set, so nothing blocks indexing.
    await expect.poll(() => page.getByTestId('index-progress').getAttribute('data-state')).toBe('idle');
    expect(await page.getByTestId('index-blocker').count()).toBe(0);
    // OCR is off by default, one click away (it is slow: seconds a page).
    await expect.poll(() => page.getByTestId('ocr-toggle').isChecked(), { timeout: 20_000 }).toBe(false);
    expect(await page.getByTestId('ocr-toggle').isEnabled()).toBe(true);
    expect(await page.getByTestId('ocr-setting').innerText()).toMatch(/Read scans with OCR/);

    await page.getByTestId('collection-name-input').fill('Handbook');
    await page.getByTestId('collection-create').click();
    await expect.poll(() => page.getByTestId('collection-title').innerText(), { timeout: 20_000 }).toBe('Handbook');
    expect(new URL(page.url()).hash).toMatch(/^#\/documents\/.+/);

    // Record every state and percent the one progress bar shows while the folder is indexed.
    await page.evaluate(() => {
      const w = window as unknown as { __index: { states: string[]; percents: number[]; bars: number } };
      w.__index = { states: [], percents: [], bars: 0 };
      const record = () => {
        const card = document.querySelector('[data-testid="index-progress"]');
        const state = card?.getAttribute('data-state');
        if (state && w.__index.states.at(-1) !== state) w.__index.states.push(state);
        const now = document.querySelector('[data-testid="index-progress-bar"]')?.getAttribute('aria-valuenow');
        if (now) w.__index.percents.push(Number(now));
        w.__index.bars = Math.max(w.__index.bars, document.querySelectorAll('[role="progressbar"]').length);
      };
      record();
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    });

    await page.getByTestId('source-path-input').fill(docs.path);
    await page.getByTestId('source-add').click();
    const source = page.getByTestId('source-row');
    await expect.poll(() => source.count(), { timeout: 20_000 }).toBe(1);
    expect(await source.getByTestId('source-path').innerText()).toBe(docs.path);
    expect(await source.getAttribute('data-kind')).toBe('folder');
  });

  it('shows one progress bar that reaches "Up to date", and per-file statuses with reasons', async () => {
    await expect.poll(() => page.getByTestId('index-up-to-date').count(), { timeout: 120_000 }).toBe(1);
    const seen = await page.evaluate(() => (window as unknown as { __index: { states: string[]; percents: number[]; bars: number } }).__index);
    // Never more than one bar, whatever was on the screen; it moved forward only.
    expect(seen.bars).toBeLessThanOrEqual(1);
    for (let i = 1; i < seen.percents.length; i++) expect(seen.percents[i]!).toBeGreaterThanOrEqual(seen.percents[i - 1]!);
    expect(seen.states).toContain('running');
    expect(seen.states.at(-1)).toBe('idle');
    console.log(`index progress: states ${seen.states.join(' → ')}; percents ${seen.percents.join(', ')}`);

    await expect.poll(() => page.getByTestId('document-row').count(), { timeout: 20_000 }).toBe(5);
    for (const name of ['tea-ceremony.md', 'orchids.txt', 'garage/bicycle.md', 'lighthouse.pdf']) {
      await expect.poll(() => row(name).getAttribute('data-status'), { timeout: 20_000 }).toBe('indexed');
    }
    for (const name of ['tea-ceremony.md', 'lighthouse.pdf']) {
      const id = await row(name).getAttribute('data-doc-id');
      expect(id).toMatch(/^doc_[0-9a-f]+$/);
      documentIds.set(name, id!);
    }
    // Paths are shown relative to the folder that was added.
    expect(await row('garage/bicycle.md').getByTestId('document-path').innerText()).toBe(join('garage', 'bicycle.md'));
    const empty = row('empty.txt');
    expect(await empty.getAttribute('data-status')).toBe('skipped');
    expect(await empty.getByTestId('document-status').innerText()).toBe('skipped');
    expect((await empty.getByTestId('document-reason').innerText()).trim().length).toBeGreaterThan(3);

    // The filter narrows the table to one status.
    await page.getByTestId('doc-filter-skipped').click();
    await expect.poll(() => page.getByTestId('document-row').count()).toBe(1);
    expect(await page.getByTestId('doc-filter-skipped').getAttribute('aria-pressed')).toBe('true');
    await page.getByTestId('doc-filter-all').click();
    await expect.poll(() => page.getByTestId('document-row').count()).toBe(5);

    const counts = await page.getByTestId('source-counts').innerText();
    expect(counts).toMatch(/4 indexed/);
    expect(counts).toMatch(/1 skipped/);
    expect(await page.getByTestId('source-watching').count()).toBe(1);
    expect(await page.getByTestId('embedding-model').innerText()).toMatch(/Embeddings:/);
    await page.screenshot({ path: join(outDir, 'documents.png'), fullPage: true });
  });

  it('searches the collection and opens a hit in the passage panel', async () => {
    await page.getByTestId('search-input').fill('orchids misting');
    await page.getByTestId('search-submit').click();
    const hits = page.getByTestId('search-hit');
    await expect.poll(() => hits.count(), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await hits.first().getAttribute('data-path')).toMatch(/orchids\.txt$/);
    expect(await hits.first().innerText()).toContain('orchids need misting');
    // The query's words are marked, and a plain cue stands where a raw fused score used to.
    expect(await hits.first().locator('mark').allInnerTexts()).toEqual(expect.arrayContaining(['orchids', 'misting']));
    expect(await hits.first().getByTestId('search-hit-match').innerText()).toMatch(/^(Strong|Good|Weak) match$/);

    // A PDF hit says its page, and its file opens at that page.
    await page.getByTestId('search-input').fill('foghorn compressor');
    await page.getByTestId('search-submit').click();
    await expect.poll(() => hits.first().getAttribute('data-path'), { timeout: 20_000 }).toMatch(/lighthouse\.pdf$/);
    expect(await hits.first().innerText()).toMatch(/page 2/);
    await hits.first().click();
    const panel = page.getByTestId('passage-panel');
    await expect.poll(() => panel.count()).toBe(1);
    expect(await panel.getByTestId('passage-text').innerText()).toContain('foghorn compressor is serviced every Thursday');
    expect(await panel.getByTestId('passage-location').innerText()).toBe('page 2');
    expect(await panel.getByTestId('passage-path').innerText()).toBe(join(docs.path, 'lighthouse.pdf'));
    expect(await panel.getByTestId('passage-open').getAttribute('href')).toBe(`documents/${documentIds.get('lighthouse.pdf')}/file#page=2`);
    expect(await panel.getByTestId('passage-open').getAttribute('target')).toBe('_blank');
    await page.screenshot({ path: join(outDir, 'documents-search.png') });
    await page.keyboard.press('Escape');
    await expect.poll(() => panel.count()).toBe(0);
  });

  it('answers a chat scoped to the collection with a Sources list and opens a cited passage', async () => {
    await page.getByTestId('nav-chat').click();
    await page.getByTestId('model-load').click();
    await expect.poll(() => page.getByTestId('runtime-status').innerText(), { timeout: 60_000 }).toMatch(/Ready/);
    await page.getByTestId('new-thread').click();
    await expect.poll(() => page.getByTestId('scope-toggle').count(), { timeout: 20_000 }).toBe(1);
    expect(await page.getByTestId('scope-toggle').innerText()).toContain('Plain chat');
    await page.getByTestId('scope-toggle').click();
    await page.getByTestId('scope-option').first().check();
    await expect.poll(() => page.getByTestId('scope-chip').innerText(), { timeout: 20_000 }).toContain('Handbook');
    await page.getByTestId('scope-toggle').click();

    await page.getByTestId('composer').fill('At what temperature does the copper kettle heat oolong?');
    await page.getByTestId('composer').press('Enter');
    await expect.poll(() => lastAssistant().getAttribute('data-status'), { timeout: 90_000 }).toMatch(/complete|length/);

    const sources = lastAssistant().getByTestId('message-sources');
    await expect.poll(() => sources.count(), { timeout: 20_000 }).toBe(1);
    expect(await sources.getByTestId('sources-budget').innerText()).toMatch(/^Sources: [\d,]+ \/ [\d,]+ tokens$/);
    const items = sources.getByTestId('source-item');
    expect(await items.count()).toBeGreaterThan(0);
    const texts = await items.allInnerTexts();
    console.log(`cited: ${JSON.stringify(texts)}`);
    expect(await items.first().getAttribute('data-n')).toBe('1');
    // Numbered as the reply cites them; the file with the answer is among them.
    const teaId = documentIds.get('tea-ceremony.md')!;
    const tea = sources.locator(`[data-testid="source-item"][data-doc-id="${teaId}"]`);
    expect(await tea.count()).toBe(1);
    expect(await tea.innerText()).toContain('tea-ceremony.md');

    await tea.click();
    const panel = page.getByTestId('passage-panel');
    await expect.poll(() => panel.count()).toBe(1);
    expect(await panel.getByTestId('passage-text').innerText()).toContain('The copper kettle must heat oolong leaves at exactly 87 degrees');
    expect(await panel.getByTestId('passage-path').innerText()).toBe(join(docs.path, 'tea-ceremony.md'));
    const href = await panel.getByTestId('passage-open').getAttribute('href');
    expect(href).toBe(`documents/${teaId}/file`);
    // The server serves the original file at that address, with the page's cookie.
    const served = await page.evaluate(async (url) => {
      const response = await fetch(url);
      return { status: response.status, text: await response.text() };
    }, href!);
    expect(served.status).toBe(200);
    expect(served.text).toBe(TEA);

    // A cited PDF passage opens at its page; the whole PDF opens at its start.
    const pdfId = documentIds.get('lighthouse.pdf')!;
    const pdfItems = sources.locator(`[data-testid="source-item"][data-doc-id="${pdfId}"]`);
    const checked: string[] = [];
    for (let i = 0; i < (await pdfItems.count()); i++) {
      await pdfItems.nth(i).click();
      const location = await panel.getByTestId('passage-location').innerText();
      const pdfHref = await panel.getByTestId('passage-open').getAttribute('href');
      const page = /^page (\d+)$/.exec(location)?.[1];
      expect(pdfHref).toBe(`documents/${pdfId}/file${page ? `#page=${page}` : ''}`);
      checked.push(`${location} → ${pdfHref}`);
    }
    console.log(`PDF citations: ${checked.join('; ') || 'none'}`);
    await tea.click();
    await page.screenshot({ path: join(outDir, 'chat-sources.png') });
    await page.keyboard.press('Escape');
  }, 180_000);

  it('says plainly when nothing in the collection is relevant', async () => {
    await page.getByTestId('new-thread').click();
    await expect.poll(() => page.getByTestId('scope-chip').count(), { timeout: 20_000 }).toBe(0);
    await page.getByTestId('scope-toggle').click();
    await page.getByTestId('scope-option').first().check();
    await expect.poll(() => page.getByTestId('scope-chip').count(), { timeout: 20_000 }).toBe(1);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('#scope-menu').count()).toBe(0);

    await page.getByTestId('composer').fill('zebra quantum');
    await page.getByTestId('composer').press('Enter');
    await expect.poll(() => lastAssistant().getAttribute('data-status'), { timeout: 90_000 }).toMatch(/complete|length/);
    const sources = lastAssistant().getByTestId('message-sources');
    await expect.poll(() => sources.count(), { timeout: 20_000 }).toBe(1);
    const note = await sources.getByTestId('sources-note').innerText().catch(() => null);
    const cited = await sources.getByTestId('source-item').allInnerTexts();
    console.log(`"zebra quantum": note ${JSON.stringify(note)}, citations ${JSON.stringify(cited)}`);
    expect(note).toBe('No relevant sources found in Handbook.');
    expect(cited).toEqual([]);
    await page.screenshot({ path: join(outDir, 'chat-no-sources.png') });
  }, 180_000);

  it('renames and deletes a collection, asking first', async () => {
    await page.getByTestId('nav-documents').click();
    await page.getByTestId('collection-name-input').fill('Scratch');
    await page.getByTestId('collection-create').click();
    const scratch = page.getByTestId('collection-item').filter({ hasText: 'Scratch' });
    await expect.poll(() => page.getByTestId('collection-title').innerText(), { timeout: 20_000 }).toBe('Scratch');
    expect(await page.getByTestId('sources-empty').count()).toBe(1);

    await scratch.getByTestId('collection-rename').click();
    await page.getByTestId('collection-rename-input').fill('Scratch notes');
    await page.getByTestId('collection-rename-input').press('Enter');
    await expect.poll(() => page.getByTestId('collection-title').innerText(), { timeout: 20_000 }).toBe('Scratch notes');

    await scratch.getByTestId('collection-delete').click();
    await page.getByTestId('collection-delete-confirm').click();
    await expect.poll(() => page.getByTestId('collection-item').count(), { timeout: 20_000 }).toBe(1);
    // The remaining collection is shown again.
    await expect.poll(() => page.getByTestId('collection-title').innerText(), { timeout: 20_000 }).toBe('Handbook');
    // The title can show before the collection's files arrive.
    await expect.poll(() => page.getByTestId('document-row').count(), { timeout: 20_000 }).toBe(5);
  });

  it('offers to rebuild the index when index/ is gone, and searches again once it is rebuilt', async () => {
    rmSync(join(data.path, 'index'), { recursive: true });
    await page.reload();
    await page.getByTestId('nav-documents').click();
    const blocker = page.getByTestId('index-blocker');
    await expect.poll(() => blocker.getAttribute('data-code'), { timeout: 20_000 }).toBe('INDEX_MISSING');
    expect(await blocker.innerText()).toContain('Rebuild');
    await page.screenshot({ path: join(outDir, 'documents-index-missing.png') });

    await blocker.getByTestId('index-blocker-rebuild').click();
    await expect.poll(() => blocker.count(), { timeout: 90_000 }).toBe(0);
    await expect.poll(() => page.getByTestId('index-progress').getAttribute('data-state'), { timeout: 90_000 }).toBe('idle');
    await page.getByTestId('search-input').fill('orchids misting');
    await page.getByTestId('search-submit').click();
    const hits = page.getByTestId('search-hit');
    await expect.poll(() => hits.count(), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await hits.first().getAttribute('data-path')).toMatch(/orchids\.txt$/);
  }, 180_000);

  it('makes a small file searchable while a large one is still embedding, and cancel keeps it', async () => {
    // A second folder in the collection (outside the first, which is watched).
    const cabinetDir = tempDir('hearth-e2e-cabinet-');
    onTestFinished(() => cabinetDir.cleanup());
    const cabinet = cabinetDir.path;
    // Hundreds of chunks to embed: the small file must not wait for them.
    const parts = Array.from({ length: 1500 }, (_, i) => `## Drawer ${i}\n\nThe archive drawer ${i} holds ledger ${i * 13} in faded ink.`);
    writeFileSync(join(cabinet, 'a-archive.md'), `# Archive\n\n${parts.join('\n\n')}\n`);
    writeFileSync(join(cabinet, 'b-zeppelin.md'), '# Hangar\n\nThe zeppelin hangar smells of varnish and rope.\n');
    await page.getByTestId('source-path-input').fill(cabinet);
    await page.getByTestId('source-add').click();

    // The small file is indexed and found while the job still embeds the large one.
    await expect.poll(() => row('b-zeppelin.md').getAttribute('data-status'), { timeout: 60_000 }).toBe('indexed');
    await expect.poll(() => page.getByTestId('index-detail').innerText(), { timeout: 60_000 }).toMatch(/^Embedding \d+\/\d+ chunks/);
    expect(await page.getByTestId('index-progress').getAttribute('data-state')).toBe('running');
    await page.getByTestId('search-input').fill('zeppelin hangar varnish');
    await page.getByTestId('search-submit').click();
    const hits = page.getByTestId('search-hit');
    await expect.poll(async () => (await hits.evaluateAll((els) => els.map((el) => el.getAttribute('data-path')))).some((p) => p?.endsWith('b-zeppelin.md')), { timeout: 20_000 }).toBe(true);
    expect(await page.getByTestId('index-progress').getAttribute('data-state')).toBe('running');
    await page.screenshot({ path: join(outDir, 'documents-searchable-while-embedding.png') });

    await page.getByTestId('index-cancel').click();
    await expect.poll(() => page.getByTestId('index-progress').getAttribute('data-state'), { timeout: 30_000 }).not.toBe('running');
    // The large file's remaining passages have no vectors yet: the card says so, not "Up to date".
    await expect.poll(() => page.getByTestId('index-progress').getAttribute('data-state'), { timeout: 20_000 }).toBe('vectors');
    expect(await page.getByTestId('index-vectors-pending').innerText()).toMatch(/^Full-text ready · [\d,]+ passages waiting for vectors$/);
    // Cancel kept what was finished: both files stay indexed and searchable.
    expect(await row('b-zeppelin.md').getAttribute('data-status')).toBe('indexed');
    await expect.poll(() => row('a-archive.md').getAttribute('data-status'), { timeout: 20_000 }).toBe('indexed');
    await page.getByTestId('search-input').fill('archive drawer 700 ledger 9100');
    await page.getByTestId('search-submit').click();
    await expect.poll(async () => (await hits.evaluateAll((els) => els.map((el) => el.getAttribute('data-path')))).some((p) => p?.endsWith('a-archive.md')), { timeout: 20_000 }).toBe(true);
    await page.getByTestId('search-input').fill('zeppelin hangar varnish');
    await page.getByTestId('search-submit').click();
    await expect.poll(async () => (await hits.evaluateAll((els) => els.map((el) => el.getAttribute('data-path')))).some((p) => p?.endsWith('b-zeppelin.md')), { timeout: 20_000 }).toBe(true);
  }, 180_000);

  it('logged no page errors', () => {
    expect(errors.filter((e) => !/WebSocket/.test(e))).toEqual([]);
  });
});

/**
 * Without an embedding model documents are indexed for full-text search: the screen says so,
 * search works and says how, and any model in the library (a chat model too, with a plain note
 * about what that means) can be chosen to add vectors.
 */
describe('documents without an embedding model (e2e)', () => {
  let server: ServeRun;
  let page: Page;
  let docs: TempDir;
  const errors: string[] = [];

  beforeAll(async () => {
    docs = tempDir('hearth-e2e-docs-fulltext-');
    writeFileSync(join(docs.path, 'orchids.txt'), ORCHIDS);
    writeFileSync(join(docs.path, 'bicycle.md'), BICYCLE);
    const stories = await testModelPath('stories260K');
    const app = await startE2eApp({
      prefix: 'hearth-e2e-documents-fulltext-',
      viewport: { width: 1280, height: 860 },
      errors,
      // A chat model in the library, but no embedding model and no embedding default.
      seed: async (core) => core.models.setDefault('chat', (await core.models.add(stories)).id),
    });
    ({ server, page } = app);
    return async () => {
      await app.close();
      docs.cleanup();
    };
  });

  it('indexes and searches by full text, says so, and adds vectors once a model is chosen', async () => {
    await page.goto(server.url);
    await page.getByTestId('nav-documents').click();
    const notice = page.getByTestId('full-text-notice');
    await expect.poll(() => notice.count(), { timeout: 20_000 }).toBe(1);
    expect(await page.getByTestId('index-blocker').count()).toBe(0);
    expect(await notice.innerText()).toContain('Full-text search only');
    await expect.poll(() => page.getByTestId('index-progress').getAttribute('data-state')).toBe('idle');
    // The notice leads to the Models screen.
    await notice.getByTestId('full-text-models').click();
    await expect.poll(() => new URL(page.url()).hash).toBe('#/models/local');
    await page.getByTestId('nav-documents').click();

    await page.getByTestId('collection-name-input').fill('Notes');
    await page.getByTestId('collection-create').click();
    await expect.poll(() => page.getByTestId('collection-title').innerText(), { timeout: 20_000 }).toBe('Notes');
    await page.getByTestId('source-path-input').fill(docs.path);
    await page.getByTestId('source-add').click();
    const row = (name: string) => page.locator(`[data-testid="document-row"][data-path$="${name}"]`);
    await expect.poll(() => row('orchids.txt').getAttribute('data-status'), { timeout: 60_000 }).toBe('indexed');
    await expect.poll(() => page.getByTestId('index-up-to-date').count(), { timeout: 60_000 }).toBe(1);

    await page.getByTestId('search-input').fill('orchids misting');
    await page.getByTestId('search-submit').click();
    const hits = page.getByTestId('search-hit');
    await expect.poll(() => hits.count(), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await hits.first().getAttribute('data-path')).toMatch(/orchids\.txt$/);
    expect(await page.getByTestId('search-results').getAttribute('data-mode')).toBe('full-text');
    expect(await page.getByTestId('search-mode').innerText()).toContain('full text');
    await page.screenshot({ path: join(outDir, 'documents-full-text.png') });

    // The chat model can be the embedding model, with a plain note about what that means.
    const select = page.getByTestId('embedding-model-select');
    expect(await select.locator('option').allInnerTexts()).toEqual(['None (full-text search only)', expect.stringContaining('(chat model)')]);
    await select.selectOption({ index: 1 });
    await expect.poll(() => page.getByTestId('embedding-generative-note').count(), { timeout: 20_000 }).toBe(1);
    expect(await page.getByTestId('embedding-generative-note').innerText()).toContain('chat model, not an embedding model');
    // Its vectors are made as a job; then searches are hybrid and the notice goes.
    await expect.poll(() => notice.count(), { timeout: 90_000 }).toBe(0);
    await expect.poll(() => page.getByTestId('index-progress').getAttribute('data-state'), { timeout: 90_000 }).toBe('idle');
    await page.getByTestId('search-submit').click();
    await expect.poll(() => page.getByTestId('search-results').getAttribute('data-mode'), { timeout: 20_000 }).toBe('hybrid');
    expect(await page.getByTestId('search-mode').count()).toBe(0);
    await page.screenshot({ path: join(outDir, 'documents-chat-model-embeddings.png') });
    expect(errors.filter((e) => !/WebSocket/.test(e))).toEqual([]);
  }, 240_000);
});
