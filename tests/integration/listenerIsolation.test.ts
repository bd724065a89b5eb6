import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatStreamEvent } from '#contract/dto';
import { createCore, type Core } from '../../src-main/core/createCore';
import type { Logger } from '../../src-main/core/common/logger';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../support/testCore';
import { testModelPath } from '../support/testModels';
import { tempDir } from '../support/tempDir';

/**
 * One front end's broken listener (a closed window, a bug in a bridge) must not end another's
 * chat reply as an error: the core's events isolate each listener and log what it threw.
 */
describe("a throwing listener on the core's events", () => {
  const dir = tempDir();
  const logged: { message: string; details: unknown[] }[] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (message, ...details) => void logged.push({ message, details }),
  };
  let core: Core;

  beforeAll(async () => {
    core = createCore(
      { dataDir: dir.path, host: 'server', version: 'test', gpu: 'off', threads: 1, catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH, library: { watch: false } },
      { logger },
    );
    const model = await core.models.add(await testModelPath('stories260K'));
    await core.runtime.load(core.models.get(model.id), { contextSize: null });
  });
  afterAll(async () => {
    await core.dispose();
    dir.cleanup();
  });

  it('does not end the reply: it completes, streams to the other listeners and is saved', async () => {
    core.settings.update({ maxReplyTokens: 24, temperature: 0.7 });
    const events: ChatStreamEvent[] = [];
    // Registered first, so every event reaches it before the listener that records.
    const offBroken = core.events.on('chat.stream', () => {
      throw new Error('the window is gone');
    });
    const offThreads = core.events.on('threads.changed', () => {
      throw new Error('the list is gone');
    });
    const offRecorder = core.events.on('chat.stream', (e) => events.push(e));
    try {
      const thread = core.chat.createThread();
      const { assistantMessageId } = await core.chat.send(thread.id, 'Once upon a time');
      await core.chat.idle(thread.id);

      const reply = core.chat.getThread(thread.id).messages[1]!;
      expect(reply.id).toBe(assistantMessageId);
      expect(['complete', 'length']).toContain(reply.status);
      const tokens = events.flatMap((e) => (e.type === 'token' && e.messageId === assistantMessageId ? [e.text] : []));
      expect(tokens.length).toBeGreaterThan(3);
      expect(reply.content).toBe(tokens.join(''));
      expect(events[0]).toMatchObject({ type: 'start', messageId: assistantMessageId });
      const end = events.at(-1);
      expect(end).toMatchObject({ type: 'end', threadId: thread.id });
      if (end?.type === 'end') expect(['complete', 'length']).toContain(end.message.status);

      // What the broken listeners threw was logged, once per delivery, naming the event.
      const failures = logged.filter((l) => /a listener of (chat\.stream|threads\.changed) failed/.test(l.message));
      expect(failures.length).toBeGreaterThanOrEqual(events.length);
      expect(failures.some((l) => (l.details[0] as Error).message === 'the window is gone')).toBe(true);
      expect(failures.some((l) => (l.details[0] as Error).message === 'the list is gone')).toBe(true);
    } finally {
      offBroken();
      offThreads();
      offRecorder();
    }
  });
});
