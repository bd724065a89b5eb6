import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatStreamEvent } from '#contract/dto';
import { startApiServer, type ApiServer } from '../support/apiServer';
import { waitUntil } from '../support/libraryCore';

/** API requests and the UI's chats on one model: disconnects, a burst of requests, fairness. */
describe('local API: sharing the model with the UI', () => {
  let api: ApiServer;
  let client: OpenAI;

  beforeAll(async () => {
    api = await startApiServer({ full: ['chat'] });
    client = api.openai();
    await api.core.runner.load(api.model.id);
  }, 60_000);
  afterAll(() => api?.close());

  const story = { role: 'user' as const, content: 'Once upon a time there was a little dog' };

  it('a client that disconnects mid-stream stops its generation and frees the model for the next request', async () => {
    const request = { model: api.model.name, messages: [story], temperature: 0 };
    // Greedy, this story runs past 100 tokens (it does not end by itself sooner)...
    const start = await client.chat.completions.create({ ...request, max_tokens: 100 });
    expect(start.choices[0]!.finish_reason).toBe('length');

    const controller = new AbortController();
    // ...so asked for 1,500, only the disconnect can end it early.
    const stream = await client.chat.completions.create({ ...request, max_tokens: 1500, stream: true }, { signal: controller.signal });
    let chunks = 0;
    for await (const _chunk of stream) {
      if (++chunks === 3) {
        // The client hangs up mid-stream: the connection closes.
        controller.abort();
        break;
      }
    }
    expect(chunks).toBe(3);
    await waitUntil(() => !api.core.runtime.isGenerating(), 'the generation to stop', 10_000);
    // What the sequence that served it held after the hang-up, past the prompt.
    const generated = api.core.runtime.loaded!.pool.recent().at(-1)!.tokensHeld - start.usage!.prompt_tokens;
    expect(generated).toBeLessThan(100);

    const next = await client.chat.completions.create({ ...request, max_tokens: 4 });
    expect(next.usage!.completion_tokens).toBeGreaterThan(0);
  });

  it('unloading the model in the UI stops an API stream with a clear error event, and the unload goes through', async () => {
    const stream = await client.chat.completions.create({ model: api.model.name, messages: [story], max_tokens: 1500, temperature: 0, stream: true });
    let chunks = 0;
    const read = (async () => {
      for await (const _chunk of stream) chunks++;
    })().then(
      () => null,
      (error: unknown) => error,
    );
    await waitUntil(() => chunks >= 3, 'the stream to start');
    await api.core.runner.unload();
    expect(await read).toMatchObject({ code: 'model_not_loaded', message: expect.stringMatching(/unloaded or switched/) });
    expect(api.core.runtime.loaded).toBeNull();
    // The next request loads the model again.
    const next = await client.chat.completions.create({ model: api.model.name, messages: [story], max_tokens: 4 });
    expect(next.usage!.completion_tokens).toBeGreaterThan(0);
  });

  it('50 concurrent requests all complete or get a clear busy error, and a UI chat in the middle gets its turn and is kept', async () => {
    const thread = api.core.chat.createThread('UI chat');
    const events: ChatStreamEvent[] = [];
    const off = api.core.events.on('chat.stream', (event) => event.threadId === thread.id && events.push(event));
    let finishedApi = 0;
    const results = Array.from({ length: 50 }, () =>
      client.chat.completions
        .create({ model: api.model.name, messages: [story], max_tokens: 6 })
        .then((reply) => {
          finishedApi++;
          return { ok: true as const, reply };
        })
        .catch((error: unknown) => ({ ok: false as const, error })),
    );
    await waitUntil(() => api.core.runtime.isGenerating(), 'the burst to start');
    const sent = await api.core.chat.send(thread.id, 'Tell me a story', { maxReplyTokens: 6 });
    await waitUntil(() => events.some((e) => e.type === 'end'), 'the UI reply');
    const apiDoneWhenUiAnswered = finishedApi;
    const settled = await Promise.all(results);
    off();

    const ok = settled.filter((r) => r.ok);
    const busy = settled.filter((r) => !r.ok);
    expect(ok.length + busy.length).toBe(50);
    expect(ok.length).toBeGreaterThan(0);
    for (const r of ok) expect(r.reply.choices[0]!.message.content).toEqual(expect.any(String));
    for (const r of busy) {
      expect(r.error).toBeInstanceOf(OpenAI.APIError);
      expect(r.error).toMatchObject({ status: 503, code: 'server_busy', message: expect.stringMatching(/busy/i) });
      expect((r.error as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBe('1');
    }
    // The UI's lane took its turn among the API's: it did not wait for the whole burst.
    expect(apiDoneWhenUiAnswered).toBeLessThan(ok.length);

    const saved = api.core.chat.getThread(thread.id);
    expect(saved.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(saved.messages[1]!.id).toBe(sent.assistantMessageId);
    expect(['complete', 'length']).toContain(saved.messages[1]!.status);
    expect(saved.messages[1]!.content.length).toBeGreaterThan(0);
    expect(api.core.runtime.isGenerating()).toBe(false);
  });
});
