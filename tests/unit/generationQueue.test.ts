import { describe, expect, it } from 'vitest';
import { HearthError } from '../../src-main/core/common/hearthError';
import { CHAT_LANE, GenerationQueue } from '../../src-main/core/inference/generationQueue';

/** A task that runs until released, recording when it started. */
function gate(order: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  return { task: () => (order.push(name), done), release: () => release() };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('GenerationQueue: the model turn order shared by chats and API clients', () => {
  it('runs one at a time and lets the lanes take turns, each lane in its own order', async () => {
    const queue = new GenerationQueue({ concurrency: 1, maxWaitingApi: 10 });
    const order: string[] = [];
    const first = gate(order, 'a1');
    const runs = [queue.run('api:a', first.task, { bounded: true })];
    const rest = ['a2', 'a3', 'b1', 'b2'].map((name) => ({ name, gate: gate(order, name) }));
    for (const { name, gate: g } of rest) runs.push(queue.run(`api:${name[0]!}`, g.task, { bounded: true }));
    const chat = gate(order, 'chat');
    runs.push(queue.run(CHAT_LANE, chat.task));
    expect(queue.stats()).toEqual({ running: 1, waiting: 5 });
    for (const release of [first.release, ...rest.map((r) => r.gate.release), chat.release]) {
      release();
      await tick();
    }
    await Promise.all(runs);
    // a's second request waits while b and the chat each get a turn.
    expect(order).toEqual(['a1', 'a2', 'b1', 'chat', 'a3', 'b2']);
    expect(queue.stats()).toEqual({ running: 0, waiting: 0 });
  });

  it('refuses API requests beyond the waiting bound with BUSY, never a chat, and an aborted waiter leaves the queue', async () => {
    const queue = new GenerationQueue({ concurrency: 1, maxWaitingApi: 2 });
    const order: string[] = [];
    const running = gate(order, 'run');
    const first = queue.run('api:a', running.task, { bounded: true });
    const controller = new AbortController();
    const left = queue.run('api:a', async () => order.push('left'), { bounded: true, signal: controller.signal });
    const second = queue.run('api:b', async () => order.push('b'), { bounded: true });
    await expect(queue.run('api:c', async () => order.push('c'), { bounded: true })).rejects.toMatchObject({ code: 'BUSY' });
    const chat = queue.run(CHAT_LANE, async () => order.push('chat'));
    controller.abort();
    await expect(left).rejects.toBeInstanceOf(HearthError);
    // Its place is free again.
    const third = queue.run('api:c', async () => order.push('c'), { bounded: true });
    running.release();
    await Promise.all([first, second, chat, third]);
    expect(order).toEqual(['run', 'b', 'chat', 'c']);
  });
});
