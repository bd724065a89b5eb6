import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatStreamEvent } from '#contract/dto';
import type { Core } from '../../src-main/core/createCore';
import { HearthError } from '../../src-main/core/common/hearthError';
import type { LeaseReport } from '../../src-main/core/inference/sequencePool';
import { createTestCore } from '../support/testCore';
import { testModelPath } from '../support/testModels';

/**
 * Keeping conversations warm, measured in tokens evaluated (deterministic, unlike time): the
 * context has a sequence per recent conversation, and a chat comes back to the sequence that
 * holds it, so a new turn evaluates only itself instead of the whole history.
 */

const CONTEXT = 1024;
const THREADS = ['A', 'B', 'C', 'D'] as const;

/** A long user turn (about 90 tokens), different per thread and turn. */
function turn(thread: string, n: number): string {
  return `${thread}${n}: Lily and Tom went to the park with a red ball. They played near the big tree until the sun went down, and then they walked home slowly, talking about the dog they met on the way, the birds, the pond and the ducks.`;
}

describe('warm conversations', () => {
  let core: Core;
  let cleanup: () => Promise<void>;
  let modelId: string;
  const starts = new Map<string, number>();

  const load = async (sequences?: number) => {
    await core.runtime.unload();
    return core.runtime.load(core.models.get(modelId), { contextSize: CONTEXT, ...(sequences ? { sequences } : {}) });
  };
  /** Sends a turn, waits for the reply, and returns what its lease cost with the prompt's size. */
  const ask = async (threadId: string, text: string): Promise<LeaseReport & { promptTokens: number }> => {
    const { assistantMessageId } = await core.chat.send(threadId, text);
    await core.chat.idle(threadId);
    const report = core.runtime.loaded!.pool.recent().at(-1)!;
    expect(report.key).toBe(threadId);
    return { ...report, promptTokens: starts.get(assistantMessageId)! };
  };

  beforeAll(async () => {
    ({ core, cleanup } = createTestCore());
    core.events.on('chat.stream', (e: ChatStreamEvent) => {
      if (e.type === 'start') starts.set(e.messageId, e.context.used);
    });
    modelId = (await core.models.add(await testModelPath('stories260K'))).id;
  });
  afterAll(() => cleanup());
  beforeEach(() => {
    // One reply token: what a lease evaluates is then the prompt's new part alone.
    core.settings.update({ maxReplyTokens: 1, temperature: 0 });
  });

  it('sizes the sequences to the warm budget and says so in the loaded model', async () => {
    const info = await load();
    expect(info.warm.sequences).toBe(4);
    expect(info.warm.bytes).toBeGreaterThan(0);
    expect(info.warm.budgetBytes).toBeGreaterThan(info.warm.bytes);
    expect(info.warm.threads).toBeGreaterThanOrEqual(1);
    expect(info.contextSize).toBe(CONTEXT);
    expect(core.runtime.state()).toMatchObject({ state: 'ready', model: { warm: { sequences: 4 } } });
  });

  it('returning to one of the last 4 conversations evaluates at most 10 % of it; a fifth evicts the oldest', async () => {
    await load();
    const threads = THREADS.map((name) => core.chat.createThread(name).id);
    for (let n = 1; n <= 2; n++) for (const [i, id] of threads.entries()) await ask(id, turn(THREADS[i]!, n));

    // Back to each of the four, oldest first: only the new turn is evaluated.
    for (const [i, id] of threads.entries()) {
      const back = await ask(id, turn(THREADS[i]!, 3));
      expect(back.promptTokens).toBeGreaterThan(250);
      expect(back.cachedTokens).toBeGreaterThan(back.promptTokens * 0.6);
      expect(back.evaluatedTokens).toBeLessThanOrEqual(back.promptTokens * 0.1 + 100);
      expect(back.evaluatedTokens).toBeLessThanOrEqual(back.promptTokens - back.cachedTokens + 1);
    }
    // Measured against the new turn's own size, the history costs nothing.
    const a = await ask(threads[0]!, 'And then?');
    expect(a.evaluatedTokens).toBeLessThanOrEqual(a.promptTokens * 0.1);

    // A fifth conversation takes the least recently used sequence (B's) and leaves the others warm.
    const e = core.chat.createThread('E').id;
    const e1 = await ask(e, turn('E', 1));
    const b = await ask(threads[1]!, 'And then?');
    expect(b.evaluatedTokens).toBeGreaterThanOrEqual(b.promptTokens * 0.9);
    // B came back on the then least recently used sequence (C's); D, A and E are still warm.
    for (const id of [threads[3]!, threads[0]!]) {
      const back = await ask(id, 'And then?');
      expect(back.evaluatedTokens).toBeLessThanOrEqual(back.promptTokens * 0.1);
    }
    // E's history is short, so its new turn weighs more; its whole first prompt was kept.
    const e2 = await ask(e, 'And then?');
    expect(e2.cachedTokens).toBeGreaterThanOrEqual(e1.promptTokens);
    expect(e2.evaluatedTokens).toBeLessThanOrEqual(e2.promptTokens - e1.promptTokens);
  });

  it('with one sequence (as before), switching threads re-evaluates the whole history', async () => {
    const info = await load(1);
    expect(info.warm.sequences).toBe(1);
    const [x, y] = ['X', 'Y'].map((name) => core.chat.createThread(name).id) as [string, string];
    await ask(x, turn('X', 1));
    await ask(y, turn('Y', 1));
    const back = await ask(x, 'And then?');
    // Only the chat template's first tokens are shared with the other thread.
    expect(back.evaluatedTokens).toBeGreaterThanOrEqual(back.promptTokens * 0.9);
  });

  it('lends free sequences at once, queues the rest in order, and frees a cancelled or unloaded wait', async () => {
    await load();
    const pool = core.runtime.loaded!.pool;
    const leases = await Promise.all([1, 2, 3, 4].map((n) => pool.acquire({ key: `k${n}` })));
    expect(new Set(leases.map((l) => l.index)).size).toBe(4);
    expect(pool.stats()).toMatchObject({ sequences: 4, busy: 4, waiting: 0 });

    const order: string[] = [];
    const controller = new AbortController();
    const cancelled = pool.acquire({ key: 'cancelled', signal: controller.signal });
    const first = pool.acquire({ key: 'first' }).then((l) => (order.push('first'), l));
    const second = pool.acquire({ key: 'second' }).then((l) => (order.push('second'), l));
    expect(pool.stats().waiting).toBe(3);
    controller.abort();
    await expect(cancelled).rejects.toMatchObject({ code: 'CANCELLED' });
    leases[0]!.release();
    leases[0]!.release(); // twice is once
    const got = await first;
    expect(got.index).toBe(leases[0]!.index);
    expect(pool.stats()).toMatchObject({ busy: 4, waiting: 1 });

    let unloaded = false;
    const unloading = core.runtime.unload().then(() => (unloaded = true));
    await expect(second).rejects.toBeInstanceOf(HearthError);
    await expect(second).rejects.toMatchObject({ code: 'MODEL_NOT_LOADED' });
    await expect(pool.acquire({ key: 'late' })).rejects.toMatchObject({ code: 'MODEL_NOT_LOADED' });
    // Unloading waits for the generations still holding sequences.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(unloaded).toBe(false);
    for (const lease of [got, ...leases.slice(1)]) lease.release();
    await unloading;
    expect(unloaded).toBe(true);
    expect(order).toEqual(['first']);
  });

  it('writes replies to two chats at once, one per sequence', async () => {
    await load();
    core.settings.update({ maxReplyTokens: 120, temperature: 0 });
    const pool = core.runtime.loaded!.pool;
    let peak = 0;
    const off = core.events.on('chat.stream', (e: ChatStreamEvent) => {
      if (e.type === 'token') peak = Math.max(peak, pool.stats().busy);
    });
    const [x, y] = ['P', 'Q'].map((name) => core.chat.createThread(name).id) as [string, string];
    await Promise.all([core.chat.send(x, 'Once upon a time'), core.chat.send(y, 'Lily had a big red ball')]);
    await Promise.all([core.chat.idle(x), core.chat.idle(y)]);
    off();
    expect(peak).toBe(2);
    const [px, py] = [x, y].map((id) => core.chat.getThread(id).messages[1]!);
    expect(px?.content.length).toBeGreaterThan(0);
    expect(py?.content.length).toBeGreaterThan(0);
    expect(pool.heldBy(x)).not.toBe(pool.heldBy(y));
  });

  it('generates on two sequences at once, each reply the same as alone', async () => {
    await load();
    const pool = core.runtime.loaded!.pool;
    const history = (text: string) => [{ type: 'user', text } as const, { type: 'model', response: [] } as { type: 'model'; response: string[] }];
    const generate = (text: string) =>
      pool.withSequence({ key: text }, async (lease) =>
        (await lease.chat.generateResponse(history(text), { maxTokens: 24, temperature: 0, repeatPenalty: false })).response,
      );
    const alone = [await generate('Lily found a ball'), await generate('Tom saw a dog')];
    await pool.clearFree();
    const together = await Promise.all([generate('Lily found a ball'), generate('Tom saw a dog')]);
    expect(together).toEqual(alone);
    expect(pool.stats()).toMatchObject({ busy: 0, waiting: 0 });
  });
});
