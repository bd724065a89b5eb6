import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../src-main/core/createCore';
import { HearthError } from '../../src-main/core/common/hearthError';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import type { ChatStreamEvent } from '#contract/dto';
import { MAX_MESSAGE_CHARS } from '#contract/api';
import { CATALOG_PATH, createTestCore, PARSE_WORKER_PATH } from '../support/testCore';
import { testModelPath, type TestModelName } from '../support/testModels';

async function loadModel(core: Core, name: TestModelName, contextSize: number | null = null) {
  const model = await core.models.add(await testModelPath(name));
  return core.runtime.load(core.models.get(model.id), { contextSize });
}

async function expectCode(fn: () => unknown, code: string) {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HearthError);
    expect((error as HearthError).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

const messageCount = (core: Core) => (core.db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n;

describe('chat service with a real model', () => {
  let core: Core;
  let cleanup: () => Promise<void>;
  let events: ChatStreamEvent[];

  beforeAll(async () => {
    ({ core, cleanup } = createTestCore());
    core.events.on('chat.stream', (e) => events.push(e));
    await loadModel(core, 'stories260K');
  });
  afterAll(() => cleanup());
  beforeEach(() => {
    events = [];
    core.settings.update({ maxReplyTokens: 40, temperature: 0.7 });
  });

  it('streams tokens, then persists the same text', async () => {
    const thread = core.chat.createThread();
    const { assistantMessageId } = await core.chat.send(thread.id, 'Once upon a time');
    await core.chat.idle(thread.id);
    const tokens = events.flatMap((e) => (e.type === 'token' && e.messageId === assistantMessageId ? [e.text] : []));
    expect(tokens.length).toBeGreaterThan(3);
    expect(events[0]).toMatchObject({ type: 'start', messageId: assistantMessageId });
    const end = events.at(-1);
    expect(end).toMatchObject({ type: 'end', threadId: thread.id });
    if (end?.type === 'end') {
      expect(end.context.total).toBe(2048);
      expect(end.context.used).toBeGreaterThan(0);
      expect(end.tokensPerSecond).toBeGreaterThan(0);
    }
    const saved = core.chat.getThread(thread.id);
    expect(saved.title).toBe('Once upon a time');
    expect(saved.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(saved.messages[1]!.content).toBe(tokens.join(''));
    expect(['complete', 'length']).toContain(saved.messages[1]!.status);
    expect(saved.messages[1]!.modelName).toBeTruthy();
    expect(saved.context?.total).toBe(2048);
  });

  it('hits the reply token limit as status "length", not silently', async () => {
    core.settings.update({ maxReplyTokens: 3 });
    const thread = core.chat.createThread();
    await core.chat.send(thread.id, 'Once upon a time there was');
    await core.chat.idle(thread.id);
    const reply = core.chat.getThread(thread.id).messages[1]!;
    expect(reply.status).toBe('length');
  });

  it('regenerate replaces the last reply; edit rewrites a question and drops what followed', async () => {
    const thread = core.chat.createThread();
    await core.chat.send(thread.id, 'Lily had a ball.');
    await core.chat.idle(thread.id);
    await core.chat.send(thread.id, 'Then what?');
    await core.chat.idle(thread.id);
    const before = core.chat.getThread(thread.id).messages;
    expect(before).toHaveLength(4);

    const regenerated = await core.chat.regenerate(thread.id);
    await core.chat.idle(thread.id);
    const afterRegen = core.chat.getThread(thread.id).messages;
    expect(afterRegen).toHaveLength(4);
    expect(afterRegen[3]!.id).toBe(regenerated.assistantMessageId);
    expect(afterRegen[3]!.id).not.toBe(before[3]!.id);
    expect(afterRegen.slice(0, 3).map((m) => m.id)).toEqual(before.slice(0, 3).map((m) => m.id));

    const edited = await core.chat.edit(thread.id, before[0]!.id, 'Tom had a red car.');
    await core.chat.idle(thread.id);
    const afterEdit = core.chat.getThread(thread.id).messages;
    expect(afterEdit.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(afterEdit[0]).toMatchObject({ id: before[0]!.id, content: 'Tom had a red car.' });
    expect(afterEdit[1]!.id).toBe(edited.assistantMessageId);
  });

  it('announces thread changes so every front end can refresh its list', async () => {
    const changed: string[] = [];
    const off = core.events.on('threads.changed', ({ threadId }) => changed.push(threadId));
    const thread = core.chat.createThread();
    core.chat.updateThread(thread.id, { title: 'Renamed' });
    await core.chat.send(thread.id, 'Hi');
    await core.chat.idle(thread.id);
    await core.chat.deleteThread(thread.id);
    off();
    expect(changed).toEqual([thread.id, thread.id, thread.id, thread.id]);
  });

  it('keeps a per-thread system prompt and sends it to the model', async () => {
    const thread = core.chat.createThread('Stories', 'You tell short stories about cats.');
    expect(core.chat.getThread(thread.id).systemPrompt).toBe('You tell short stories about cats.');
    const updated = core.chat.updateThread(thread.id, { systemPrompt: 'You tell short stories about dogs.' });
    expect(updated.systemPrompt).toBe('You tell short stories about dogs.');
    await core.chat.send(thread.id, 'Go on.');
    await core.chat.idle(thread.id);
    const end = events.find((e) => e.type === 'end');
    // The prompt includes the system text: more tokens than the question alone.
    const bare = core.chat.createThread();
    events = [];
    await core.chat.send(bare.id, 'Go on.');
    await core.chat.idle(bare.id);
    const bareStart = events.find((e) => e.type === 'start');
    const start = end?.type === 'end' ? end.context.used : 0;
    expect(bareStart?.type === 'start' && bareStart.context.used).toBeLessThan(start);
  });

  it('refuses a message over the character limit with MESSAGE_TOO_LARGE and writes nothing', async () => {
    const thread = core.chat.createThread();
    const before = messageCount(core);
    await expectCode(() => core.chat.send(thread.id, 'a'.repeat(MAX_MESSAGE_CHARS + 1)), 'MESSAGE_TOO_LARGE');
    expect(messageCount(core)).toBe(before);
  });

  it('refuses a message larger than the context with MESSAGE_TOO_LARGE and writes nothing', async () => {
    const thread = core.chat.createThread();
    const before = messageCount(core);
    await expectCode(() => core.chat.send(thread.id, 'the cat sat on the mat. '.repeat(800)), 'MESSAGE_TOO_LARGE');
    expect(messageCount(core)).toBe(before);
  });

  it('a deleted thread is THREAD_NOT_FOUND for every call, and its messages are gone', async () => {
    const thread = core.chat.createThread();
    await core.chat.send(thread.id, 'Once upon a time');
    await core.chat.deleteThread(thread.id); // also stops the reply in progress
    const orphans = core.db.prepare('SELECT COUNT(*) AS n FROM messages WHERE thread_id = ?').get(thread.id) as { n: number };
    expect(orphans.n).toBe(0);
    await expectCode(() => core.chat.send(thread.id, 'hello?'), 'THREAD_NOT_FOUND');
    await expectCode(() => core.chat.getThread(thread.id), 'THREAD_NOT_FOUND');
    await expectCode(() => core.chat.regenerate(thread.id), 'THREAD_NOT_FOUND');
    expect(core.chat.listThreads().some((t) => t.id === thread.id)).toBe(false);
  });

  it('a second message while a reply is streaming in the same thread is BUSY', async () => {
    core.settings.update({ maxReplyTokens: 200 });
    const thread = core.chat.createThread();
    await core.chat.send(thread.id, 'Once upon a time');
    await expectCode(() => core.chat.send(thread.id, 'again'), 'BUSY');
    await core.chat.stop(thread.id);
  });

  it('editing a message that is not the user’s is refused', async () => {
    const thread = core.chat.createThread();
    const { assistantMessageId } = await core.chat.send(thread.id, 'Hi');
    await core.chat.idle(thread.id);
    await expectCode(() => core.chat.edit(thread.id, assistantMessageId, 'x'), 'BAD_INPUT');
    await expectCode(() => core.chat.edit(thread.id, 'msg_nope', 'x'), 'MESSAGE_NOT_FOUND');
  });
});

describe('stopping a reply', () => {
  it('keeps the partial text with status "stopped" and reports no error', async () => {
    const { core, cleanup } = createTestCore();
    try {
      await loadModel(core, 'tinyRandom');
      core.settings.update({ maxReplyTokens: 2000 });
      const thread = core.chat.createThread();
      let tokens = 0;
      const stopped = new Promise<void>((resolve) => {
        core.events.on('chat.stream', (e) => {
          if (e.type === 'token' && ++tokens === 5) void core.chat.stop(thread.id).then(resolve);
        });
      });
      await core.chat.send(thread.id, 'Say something long.');
      await stopped;
      const reply = core.chat.getThread(thread.id).messages[1]!;
      expect(reply.status).toBe('stopped');
      expect(reply.error).toBeNull();
      expect(reply.content.length).toBeGreaterThan(0);
      expect(tokens).toBeLessThan(2000);
      expect(core.chat.isGenerating(thread.id)).toBe(false);
    } finally {
      await cleanup();
    }
  });
});

describe('context budget', () => {
  it('drops the oldest turns when the history no longer fits, and says which', async () => {
    const { core, cleanup } = createTestCore();
    try {
      await loadModel(core, 'stories260K', 256);
      core.settings.update({ maxReplyTokens: 24 });
      const thread = core.chat.createThread();
      const userIds: string[] = [];
      let last: ChatStreamEvent | undefined;
      core.events.on('chat.stream', (e) => (last = e));
      for (let i = 0; i < 5; i++) {
        userIds.push((await core.chat.send(thread.id, `Story ${i}: the little dog ran to the park and played with a big red ball all day.`)).userMessageId);
        await core.chat.idle(thread.id);
      }
      expect(last?.type).toBe('end');
      const context = last?.type === 'end' ? last.context : null;
      expect(context!.total).toBe(256);
      expect(context!.used).toBeLessThanOrEqual(256);
      expect(context!.droppedMessageIds.length).toBeGreaterThan(0);
      expect(context!.droppedMessageIds[0]).toBe(userIds[0]);
      expect(context!.droppedMessageIds).not.toContain(userIds[4]);
      // The thread remembers it, so the UI can show it after a reload.
      expect(core.chat.getThread(thread.id).context?.droppedMessageIds).toEqual(context!.droppedMessageIds);
    } finally {
      await cleanup();
    }
  });
});

describe('without a model', () => {
  it('sending is MODEL_NOT_LOADED and writes nothing; after unload too', async () => {
    const { core, cleanup } = createTestCore();
    try {
      const thread = core.chat.createThread();
      await expectCode(() => core.chat.send(thread.id, 'hello'), 'MODEL_NOT_LOADED');
      await loadModel(core, 'stories260K');
      await core.runtime.unload();
      // The first chat model added became the default, and a message would load it: with no default, nothing loads.
      expect(core.models.defaultFor('chat')).toBeDefined();
      core.models.setDefault('chat', null);
      await expectCode(() => core.chat.send(thread.id, 'hello'), 'MODEL_NOT_LOADED');
      expect(messageCount(core)).toBe(0);
      expect(core.runtime.state()).toMatchObject({ state: 'idle' });
    } finally {
      await cleanup();
    }
  });
});

describe('persistence across restarts', () => {
  it('threads and messages come back after the core is rebuilt on the same data directory', async () => {
    const first = createTestCore();
    const { dataDir } = first;
    await loadModel(first.core, 'stories260K');
    first.core.settings.update({ maxReplyTokens: 10 });
    const thread = first.core.chat.createThread('Kept', 'Be brief.');
    await first.core.chat.send(thread.id, 'Once upon a time');
    await first.core.chat.idle(thread.id);
    const before = first.core.chat.getThread(thread.id);
    await first.core.dispose();

    const second = createCore(
      { dataDir, host: 'server', version: 'test', gpu: 'off', threads: 1, catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH },
      { logger: createConsoleLogger('error') },
    );
    try {
      const after = second.chat.getThread(thread.id);
      expect(after).toEqual(before);
      expect(second.settings.get().maxReplyTokens).toBe(10);
      expect((await second.models.list()).length).toBe(1);
    } finally {
      await second.dispose();
      await first.cleanup();
    }
  });
});
