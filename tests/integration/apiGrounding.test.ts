import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collection, MessageSources } from '#contract/dto';
import { startApiServer, type ApiServer } from '../support/apiServer';
import { indexPath } from '../support/libraryCore';
import { tempDir } from '../support/tempDir';

type Grounded = OpenAI.Chat.Completions.ChatCompletion & { hearth?: { sources: MessageSources } };

/** A chat completion grounded in collections (`hearth.collections`): the UI's scoped-chat retrieval, through the API. */
describe('local API: completions grounded in collections', () => {
  let api: ApiServer;
  let collection: Collection;
  let other: Collection;
  const docs = tempDir('hearth-api-docs-');

  beforeAll(async () => {
    // stories260K is no embedding model: relevance comes from shared words (as in chatSources.test.ts).
    api = await startApiServer({ full: ['chat', 'documents:*'], chatOnly: ['chat'] }, { library: { minSimilarity: 0.99 } });
    const long = Array.from({ length: 40 }, (_, i) => `Paragraph ${i}: the ferry timetable lists sailing ${i} from the harbour at ${i % 24}:15.`);
    writeFileSync(join(docs.path, 'ferries.md'), `# Ferry timetable\n\n${long.join('\n\n')}\n`);
    ({ collection } = await indexPath(api.core, docs.path, 'Handbook'));
    other = api.core.library.ensureCollection('Elsewhere');
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    docs.cleanup();
  });

  const question = 'Which harbour sailing does the ferry timetable list?';

  it('returns the cited passages with the answer: the same retrieval and budget as a scoped chat in the UI', async () => {
    const reply = (await api.openai().chat.completions.create({
      model: api.model.name,
      messages: [{ role: 'user', content: question }],
      max_tokens: 16,
      hearth: { collections: ['Handbook'] },
    } as OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming)) as Grounded;
    const sources = reply.hearth!.sources;
    expect(sources.collectionIds).toEqual([collection.id]);
    expect(sources.citations.length).toBeGreaterThan(0);
    expect(sources.citations[0]!.path).toBe(join(docs.path, 'ferries.md'));

    const thread = api.core.chat.createThread();
    api.core.chat.setCollections(thread.id, [collection.id]);
    const { assistantMessageId } = await api.core.chat.send(thread.id, question, { maxReplyTokens: 16 });
    await api.core.chat.idle(thread.id);
    const ui = api.core.chat.getThread(thread.id).messages.find((m) => m.id === assistantMessageId)!.sources!;
    expect(sources.budget).toEqual(ui.budget);
    expect(sources.citations.map((c) => c.chunkId)).toEqual(ui.citations.map((c) => c.chunkId));
    // The prompt carried them: far more prompt tokens than the question alone.
    expect(reply.usage!.prompt_tokens).toBeGreaterThan(sources.budget.used);

    // Streamed, the passages come in the first chunk, before the answer.
    const stream = await api.openai().chat.completions.create({
      model: api.model.name,
      messages: [{ role: 'user', content: question }],
      max_tokens: 4,
      stream: true,
      hearth: { collections: [collection.id] },
    } as OpenAI.Chat.Completions.ChatCompletionCreateParamsStreaming);
    const first = (await stream[Symbol.asyncIterator]().next()).value as { hearth?: { sources: MessageSources } };
    expect(first.hearth!.sources.citations.map((c) => c.chunkId)).toEqual(ui.citations.map((c) => c.chunkId));
    stream.controller.abort();
  });

  it('needs a documents scope for the collection, and a collection that exists', async () => {
    const ask = (token: string, collections: string[]) =>
      api.openai(token).chat.completions.create({
        model: api.model.name,
        messages: [{ role: 'user', content: question }],
        max_tokens: 4,
        hearth: { collections },
      } as OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming);
    await expect(ask('chatOnly', ['Handbook'])).rejects.toMatchObject({ status: 403, error: { type: 'permission_error' } });
    // A token for one collection grounds in it, and only in it.
    const handbookOnly = api.core.apiTokens.create({ name: 'handbook', scopes: ['chat', 'documents:Handbook'] }).secret;
    expect(((await ask(handbookOnly, ['Handbook'])) as Grounded).hearth!.sources.collectionIds).toEqual([collection.id]);
    await expect(ask(handbookOnly, ['Elsewhere'])).rejects.toMatchObject({ status: 403, code: 'insufficient_permissions' });
    await expect(ask('full', ['No such collection'])).rejects.toMatchObject({ status: 404, code: 'collection_not_found' });
    // An empty collection grounds nothing, and says so.
    const empty = (await ask('full', [other.id])) as Grounded;
    expect(empty.hearth!.sources.citations).toEqual([]);
    expect(empty.hearth!.sources.note).toMatch(/Elsewhere/);
  });
});
