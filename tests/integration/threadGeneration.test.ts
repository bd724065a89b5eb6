import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '#contract/dto';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import type { Core } from '../../src-main/core/createCore';
import { createHandlers } from '../../src-main/core/rpc/handlers';
import { createDispatcher } from '../../src-main/core/rpc/dispatcher';
import { createLibraryCore } from '../support/libraryCore';

/**
 * Generation settings end to end on a real model: the saved defaults, a chat's own values over
 * them, and what the reply's receipt records and a replay reproduces (repeat penalty included).
 */
describe('generation settings: defaults, per-chat overrides and presets (real model, real SQLite)', () => {
  let core: Core;
  let cleanup: () => Promise<void>;
  let dispatch: ReturnType<typeof createDispatcher>;

  beforeAll(async () => {
    const lib = await createLibraryCore({ vault: { scryptN: 1 << 12 } });
    ({ core, cleanup } = lib);
    await core.runner.load(lib.model.id, { contextSize: 512 });
    await core.vault.create({ passphrase: 'correct horse battery' });
    dispatch = createDispatcher(createHandlers(core), createConsoleLogger('silent'));
  });
  afterAll(() => cleanup());

  async function ask(threadId: string, question: string): Promise<Message> {
    const { assistantMessageId } = await core.chat.send(threadId, question, { seed: 7 });
    await core.chat.idle(threadId);
    const message = core.chat.getThread(threadId).messages.find((m) => m.id === assistantMessageId)!;
    expect(message.status).not.toBe('error');
    return message;
  }

  it('has defaults for every sampling value, and the saved defaults reach a reply', async () => {
    expect(core.settings.get()).toMatchObject({ temperature: 0.7, topP: 0.95, topK: 40, repeatPenalty: 1, maxReplyTokens: 1024, presets: [] });
    core.settings.update({ temperature: 0.5, topP: 0.8, topK: 20, maxReplyTokens: 12 });
    const thread = core.chat.createThread();
    expect(core.generation.get(thread.id)).toEqual({
      threadId: thread.id,
      overrides: null,
      effective: { temperature: 0.5, topP: 0.8, topK: 20, repeatPenalty: 1, maxReplyTokens: 12 },
    });
    const reply = await ask(thread.id, 'Once upon a time');
    expect(core.receipts.read(reply.id)!.fields.sampling).toMatchObject({
      temperature: '0.5',
      topP: '0.8',
      topK: 20,
      repeatPenalty: '1',
      penaltyLastTokens: 0,
      maxTokens: 12,
    });
  });

  it("a chat's own values win over the defaults, only in that chat, and a replay reproduces them", async () => {
    const tuned = core.chat.createThread();
    const plain = core.chat.createThread();
    const set = await dispatch('threads.setGeneration', { threadId: tuned.id, overrides: { temperature: 1.2, topK: 5, repeatPenalty: 1.3, maxReplyTokens: 16 } });
    expect(set).toEqual({
      ok: true,
      value: {
        threadId: tuned.id,
        overrides: { temperature: 1.2, topK: 5, repeatPenalty: 1.3, maxReplyTokens: 16 },
        effective: { temperature: 1.2, topP: 0.8, topK: 5, repeatPenalty: 1.3, maxReplyTokens: 16 },
      },
    });
    const reply = await ask(tuned.id, 'Lily found a ball');
    const sampling = core.receipts.read(reply.id)!.fields.sampling;
    expect(sampling).toMatchObject({ temperature: '1.2', topP: '0.8', topK: 5, repeatPenalty: '1.3', penaltyLastTokens: 64, maxTokens: 16 });
    // The penalty is really applied: the replay (which reads the receipt) generates the same tokens.
    const report = await core.verification.verifyMessage(reply.id);
    expect(report.replay).toMatchObject({ outcome: 'identical' });

    const other = await ask(plain.id, 'Lily found a ball');
    expect(core.receipts.read(other.id)!.fields.sampling).toMatchObject({ temperature: '0.5', topK: 20, repeatPenalty: '1', penaltyLastTokens: 0 });

    // Cleared, the chat follows the defaults again.
    expect(await dispatch('threads.setGeneration', { threadId: tuned.id, overrides: null })).toMatchObject({ ok: true, value: { overrides: null } });
    expect(core.generation.effective(tuned.id)).toEqual(core.generation.effective(plain.id));
  }, 60_000);

  it('refuses values out of range with BAD_INPUT, and unknown chats with THREAD_NOT_FOUND', async () => {
    const thread = core.chat.createThread();
    for (const overrides of [{ topP: 0 }, { topP: 1.5 }, { temperature: -1 }, { repeatPenalty: 0.5 }, { topK: 1.5 }, { maxReplyTokens: 0 }]) {
      const result = await dispatch('threads.setGeneration', { threadId: thread.id, overrides });
      expect(result, JSON.stringify(overrides)).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    }
    expect(await dispatch('threads.setGeneration', { threadId: thread.id, overrides: { seed: 3 } as never })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(await dispatch('threads.generation', { threadId: 'no-such-thread' })).toMatchObject({ ok: false, error: { code: 'THREAD_NOT_FOUND' } });
    expect(core.generation.get(thread.id).overrides).toBeNull();
  });

  it("deleting a chat deletes its values; a stored value that cannot be read back counts as none", async () => {
    const thread = core.chat.createThread();
    core.generation.set(thread.id, { temperature: 0.1 });
    core.db.prepare("UPDATE thread_generation SET params_json = '{\"temperature\": \"hot\"}' WHERE thread_id = ?").run(thread.id);
    expect(core.generation.get(thread.id).overrides).toBeNull();
    core.generation.set(thread.id, { temperature: 0.1 });
    await core.chat.deleteThread(thread.id);
    expect((core.db.prepare('SELECT COUNT(*) AS n FROM thread_generation WHERE thread_id = ?').get(thread.id) as { n: number }).n).toBe(0);
  });

  it('keeps named presets in the settings, each with its own id, and reads a damaged list back as none', async () => {
    const presets = [
      { id: 'precise', name: 'Precise', systemPrompt: 'Answer in one sentence.', params: { temperature: 0.1, topP: 0.5 } },
      { id: 'story', name: 'Storyteller', systemPrompt: 'Tell a story.', params: { temperature: 1.1 } },
    ];
    expect(await dispatch('settings.update', { presets })).toMatchObject({ ok: true, value: { presets } });
    expect(core.settings.get().presets).toEqual(presets);
    const twice = [presets[0]!, { ...presets[1]!, id: 'precise' }];
    expect(await dispatch('settings.update', { presets: twice })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(await dispatch('settings.update', { presets: [{ ...presets[0]!, params: { topP: 2 } }] })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    core.db.prepare("UPDATE settings SET value = '[{\"id\": 1}]' WHERE key = 'presets'").run();
    expect(core.settings.get().presets).toEqual([]);
  });

  it('resets chosen settings to their defaults, and only those', async () => {
    core.settings.update({ temperature: 0.3, topK: 7, hubEndpoint: 'http://127.0.0.1:9/' });
    const reset = await dispatch('settings.reset', { keys: ['temperature', 'topK'] });
    expect(reset).toMatchObject({ ok: true, value: { temperature: 0.7, topK: 40, hubEndpoint: 'http://127.0.0.1:9/' } });
    expect(await dispatch('settings.reset', { keys: ['noSuchSetting'] as never })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(await dispatch('settings.reset', { keys: [] })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
  });
});
