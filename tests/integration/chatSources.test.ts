import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Core } from '../../src-main/core/createCore';
import { sourceBudget } from '../../src-main/core/inference/sourceContext';
import { createLibraryCore, indexPath } from '../support/libraryCore';
import { writeCorpus } from '../support/retrievalCorpus';
import { tempDir } from '../support/tempDir';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function ask(core: Core, threadId: string, question: string) {
  const { assistantMessageId } = await core.chat.send(threadId, question, { maxReplyTokens: 16 });
  await core.chat.idle(threadId);
  const message = core.chat.getThread(threadId).messages.find((m) => m.id === assistantMessageId)!;
  expect(message.status).not.toBe('error');
  return message;
}

describe('chat with sources (real model, real index)', () => {
  async function setup() {
    // stories260K is a story model, not an embedding model: its cosine similarities between
    // unrelated texts reach 0.7, so vector-only relevance is set out of its reach here and a
    // passage counts when it shares a content word with the question.
    const lib = await createLibraryCore({ library: { minSimilarity: 0.99 } });
    cleanups.push(lib.cleanup);
    const docs = tempDir('hearth-chat-docs-');
    cleanups.push(docs.cleanup);
    writeCorpus(docs.path);
    // A long document, so passages (not the whole file) are what fits the budget.
    const long = Array.from({ length: 120 }, (_, i) => `Paragraph ${i}: the ferry timetable lists sailing ${i} from the harbour at ${i % 24}:15.`);
    writeFileSync(join(docs.path, 'ferries.md'), `# Ferry timetable\n\n${long.join('\n\n')}\n`);
    const { collection } = await indexPath(lib.core, docs.path, 'Handbook');
    return { ...lib, docs: docs.path, collection };
  }

  it('answers a scoped chat with numbered citations whose passages fit the visible budget', async () => {
    const { core, collection, docs } = await setup();
    const thread = core.chat.createThread();
    expect(core.chat.setCollections(thread.id, [collection.id]).collectionIds).toEqual([collection.id]);
    const starts: unknown[] = [];
    const off = core.events.on('chat.stream', (e) => e.type === 'start' && starts.push(e.sources));
    cleanups.push(off);

    const message = await ask(core, thread.id, 'Which harbour sailing does the ferry timetable list?');
    const sources = message.sources!;
    expect(sources.note).toBeNull();
    expect(sources.citations.length).toBeGreaterThan(0);
    expect(sources.citations.map((c) => c.n)).toEqual(sources.citations.map((_, i) => i + 1));
    expect(sources.citations[0]!.path).toBe(join(docs, 'ferries.md'));
    expect(sources.citations[0]!.wholeDocument).toBe(false);
    const context = core.runtime.loaded!.context.contextSize;
    expect(sources.budget.total).toBe(sourceBudget(context, 16));
    expect(sources.budget.used).toBeGreaterThan(0);
    expect(sources.budget.used).toBeLessThanOrEqual(sources.budget.total);
    // Each citation's text is the exact indexed passage, so clicking it shows what the model saw.
    for (const citation of sources.citations) expect((await core.library.chunk(citation.chunkId)).text).toBe(citation.text);
    expect(starts).toEqual([sources]);
  });

  it('gives a small document whole when it fits', async () => {
    const { core, collection, docs } = await setup();
    const thread = core.chat.createThread();
    core.chat.setCollections(thread.id, [collection.id]);
    const message = await ask(core, thread.id, 'What do I do about varroa mites and oxalic acid?');
    const [first] = message.sources!.citations;
    expect(first).toMatchObject({ n: 1, path: join(docs, 'garden/beekeeping.txt'), wholeDocument: true });
    expect(first!.text).toContain('Inspect the brood frames weekly');
    expect(first!.text).toContain('honey super');
  });

  it('says plainly when no relevant source is found', async () => {
    const { core, collection } = await setup();
    const thread = core.chat.createThread();
    core.chat.setCollections(thread.id, [collection.id]);
    const message = await ask(core, thread.id, 'zeppelin quokka xylophone');
    expect(message.sources).toMatchObject({ citations: [], note: 'No relevant sources found in Handbook.' });
  });

  it('a plain chat has no sources', async () => {
    const { core } = await setup();
    const thread = core.chat.createThread();
    const message = await ask(core, thread.id, 'Which harbour sailing does the ferry timetable list?');
    expect(message.sources).toBeNull();
  });
});
