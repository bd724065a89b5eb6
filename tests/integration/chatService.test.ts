import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatStreamEvent } from '../../src-preload/contract/dto';
import type { Core } from '../../src-main/core/createCore';
import { createTestCore } from '../support/testCore';
import { testModelPath } from '../support/testModels';

describe('chat with a real GGUF model (stories260K)', () => {
  let core: Core;
  let cleanup: () => Promise<void>;
  const events: ChatStreamEvent[] = [];

  beforeAll(async () => {
    ({ core, cleanup } = createTestCore());
    core.events.on('chat.stream', (e) => events.push(e));
    const model = await core.models.add(await testModelPath('stories260K'));
    await core.runtime.load(core.models.get(model.id), { contextSize: null });
  });
  afterAll(() => cleanup());

  it('streams tokens and persists the reply', async () => {
    const thread = core.chat.createThread();
    core.settings.update({ maxReplyTokens: 40 });
    const { assistantMessageId } = core.chat.send(thread.id, 'Once upon a time');
    await core.chat.idle(thread.id);
    const tokens = events.filter((e) => e.type === 'token' && e.messageId === assistantMessageId);
    expect(tokens.length).toBeGreaterThan(3);
    const end = events.find((e) => e.type === 'end' && e.message.id === assistantMessageId);
    expect(end?.type).toBe('end');
    const saved = core.chat.getThread(thread.id).messages;
    expect(saved.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(saved[1]!.content.length).toBeGreaterThan(0);
    expect(saved[1]!.content).toBe(tokens.map((t) => (t.type === 'token' ? t.text : '')).join(''));
    expect(['complete', 'length']).toContain(saved[1]!.status);
  });
});
