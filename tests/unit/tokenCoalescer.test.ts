import { describe, expect, it } from 'vitest';
import { TokenCoalescer } from '../../src-main/cli/tokenCoalescer';

const token = (messageId: string, text: string) => ({ type: 'token' as const, threadId: 't', messageId, text });

describe('TokenCoalescer (WebSocket event batching)', () => {
  it('sends the first token at once, merges the rest of a burst, and keeps every character in order', async () => {
    const sent: { name: string; payload: unknown }[] = [];
    const coalescer = new TokenCoalescer((name, payload) => sent.push({ name, payload }), 20);
    coalescer.push('chat.stream', token('m1', 'Once'));
    expect(sent).toHaveLength(1); // first token: no waiting
    for (const piece of [' upon', ' a', ' time']) coalescer.push('chat.stream', token('m1', piece));
    expect(sent).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(sent).toHaveLength(2);
    expect(sent[1]!.payload).toEqual(token('m1', ' upon a time'));
  });

  it('flushes pending tokens before any other event, so the end never overtakes the text', () => {
    const sent: { name: string; payload: unknown }[] = [];
    const coalescer = new TokenCoalescer((name, payload) => sent.push({ name, payload }), 1000);
    coalescer.push('chat.stream', token('m1', 'a'));
    coalescer.push('chat.stream', token('m1', 'b'));
    coalescer.push('chat.stream', token('m1', 'c'));
    coalescer.push('runtime.state', { state: 'idle', backend: null });
    expect(sent.map((s) => s.payload)).toEqual([token('m1', 'a'), token('m1', 'bc'), { state: 'idle', backend: null }]);
  });

  it('never merges tokens of different replies', () => {
    const sent: unknown[] = [];
    const coalescer = new TokenCoalescer((_name, payload) => sent.push(payload), 1000);
    coalescer.push('chat.stream', token('m1', 'a'));
    coalescer.push('chat.stream', token('m1', 'b'));
    coalescer.push('chat.stream', token('m2', 'x'));
    coalescer.flush();
    expect(sent).toEqual([token('m1', 'a'), token('m1', 'b'), token('m2', 'x')]);
  });
});
