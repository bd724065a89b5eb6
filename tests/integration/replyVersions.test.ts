import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatStreamEvent, Message } from '#contract/dto';
import type { Core } from '../../src-main/core/createCore';
import { HearthError } from '../../src-main/core/common/hearthError';
import { promptTokens } from '../../src-main/core/inference/promptBuilder';
import { createLibraryCore } from '../support/libraryCore';

const PASSPHRASE = 'correct horse battery';

/**
 * Regenerate keeps the earlier reply as another version (‹ 1/2 ›); the chosen version is what
 * later turns see; each version keeps its answer receipt, and chains and verification follow
 * the chat as each reply saw it. Real model, real SQLite, a real wallet.
 */
describe('reply versions (real model, real SQLite)', () => {
  let core: Core;
  let cleanup: () => Promise<void>;
  const events: ChatStreamEvent[] = [];

  beforeAll(async () => {
    const lib = await createLibraryCore({ vault: { scryptN: 1 << 12 } });
    ({ core, cleanup } = lib);
    await core.vault.create({ passphrase: PASSPHRASE });
    await core.runner.load(lib.model.id, { contextSize: 512 });
    // Random seeds at temperature 1: two versions of a reply differ.
    core.settings.update({ maxReplyTokens: 24, temperature: 1 });
    core.events.on('chat.stream', (e) => events.push(e));
  });
  afterAll(() => cleanup());

  const shown = (threadId: string): Message[] => core.chat.getThread(threadId).messages;

  async function settle(threadId: string, pending: Promise<{ assistantMessageId: string }>): Promise<string> {
    const { assistantMessageId } = await pending;
    await core.chat.idle(threadId);
    return assistantMessageId;
  }

  it('keeps every version, shows the chosen one and gives it to later turns', async () => {
    const thread = core.chat.createThread();
    const first = await settle(thread.id, core.chat.send(thread.id, 'Tom had a dog.'));
    const second = await settle(thread.id, core.chat.regenerate(thread.id));
    const third = await settle(thread.id, core.chat.regenerate(thread.id));

    const messages = shown(thread.id);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(messages[1]!.id).toBe(third);
    expect(messages[1]!.versions).toEqual({ ids: [first, second, third], index: 2 });
    expect(core.chat.listThreads().find((t) => t.id === thread.id)!.messageCount).toBe(2);
    const texts = [first, second, third].map((id) => core.db.prepare('SELECT content FROM messages WHERE id = ?').pluck().get(id) as string);
    expect(new Set(texts).size).toBeGreaterThan(1);

    // Choosing the first version shows it; the live context counts it, as the next prompt will.
    const chosen = core.chat.chooseVersion(thread.id, first);
    expect(chosen.messages[1]).toMatchObject({ id: first, content: texts[0], versions: { ids: [first, second, third], index: 0 } });
    const session = core.runtime.loaded!;
    const usage = core.chat.contextUsage(thread.id)!;
    expect(usage.total).toBe(512);
    expect(usage.used).toBe(promptTokens(session, [{ type: 'user', text: 'Tom had a dog.' }, { type: 'model', response: [texts[0]!] }]).length);

    // The next turn is answered after the chosen version: its receipt chains to it and its transcript holds it.
    const next = await settle(thread.id, core.chat.send(thread.id, 'What did the dog do?'));
    expect(core.receipts.read(next)!.fields.previousReceipt).toBe(core.receipts.read(first)!.hash);
    const bundle = await core.verification.exportBundle(next, true);
    expect(bundle.transcript!.history).toEqual([
      { role: 'user', text: 'Tom had a dog.' },
      { role: 'assistant', text: texts[0] },
    ]);
    expect(bundle.chain.map((r) => r.fields.messageId)).toEqual([first, next]);

    // Every version keeps its receipt; a version not shown verifies in the chat as it saw it.
    for (const id of [first, second, third]) expect(core.receipts.read(id)?.fields.messageId).toBe(id);
    const hiddenBundle = await core.verification.exportBundle(third, false);
    expect(hiddenBundle.chain.map((r) => r.fields.messageId)).toEqual([third]);
    const report = await core.verification.verifyMessage(third);
    expect(report.checks.find((c) => c.check === 'chain')?.status).toBe('pass');

    // Switching versions while a reply is written is refused; an unknown version too.
    await expect(async () => core.chat.chooseVersion(thread.id, 'msg_nope')).rejects.toThrow(HearthError);
    const pending = core.chat.send(thread.id, 'And then?');
    const { assistantMessageId } = await pending;
    expect(() => core.chat.chooseVersion(thread.id, second)).toThrow(/still writing/);
    await core.chat.idle(thread.id);
    expect(shown(thread.id).at(-1)!.id).toBe(assistantMessageId);
  });

  it('streams the context used as tokens arrive', async () => {
    const thread = core.chat.createThread();
    events.length = 0;
    const id = await settle(thread.id, core.chat.send(thread.id, 'Lily saw a bird.'));
    const start = events.find((e) => e.type === 'start' && e.messageId === id);
    const used = events.flatMap((e) => (e.type === 'token' && e.messageId === id && e.used !== undefined ? [e.used] : []));
    expect(start?.type === 'start' && start.context.used).toBeGreaterThan(0);
    expect(used.length).toBeGreaterThan(3);
    expect(used).toEqual([...used].sort((a, b) => a - b));
    expect(used[0]!).toBeGreaterThan(start?.type === 'start' ? start.context.used : 0);
  });

  it('signs a regenerated reply stored unsigned while the vault was locked, its chain skipping the version it replaced', async () => {
    const thread = core.chat.createThread();
    const first = await settle(thread.id, core.chat.send(thread.id, 'The sun was hot.'));
    await core.vault.lock();
    const again = await settle(thread.id, core.chat.regenerate(thread.id));
    expect(shown(thread.id)[1]!.receipt).toBe('unsigned');
    await core.vault.unlock({ passphrase: PASSPHRASE });
    expect(await core.receipts.signPending(thread.id)).toEqual({ signed: 1, refused: [] });
    expect(shown(thread.id)[1]).toMatchObject({ id: again, receipt: 'signed', versions: { ids: [first, again], index: 1 } });
  });
});
