import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Token } from 'node-llama-cpp';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { LLAMA_CHAT_REPEAT_PENALTY, type GenerationSampling } from '../../src-main/core/inference/generationSampling';
import { ReplayEngine, type ReplayRequest } from '../../src-main/core/inference/replayEngine';
import { ChatPathRecorder, prompts, type RecordedReply } from '../support/recordedReplies';
import { testModelPath, type TestModelName } from '../support/testModels';

/**
 * Determinism, measured: replies generated the way the chat generates them (one context
 * shared from reply to reply) replay token for token on a fresh context, greedy and seeded,
 * on both test models; and the replay gives the same tokens with 1, 2 or 4 threads and after
 * the model is loaded again. README ("Replay and determinism") reports what this shows.
 */

const PROMPTS = 50;
const CONTEXT = 2048;
const SHORT = 24;
const THREADS_TOKENS = 4;

const greedy: GenerationSampling = { temperature: 0, topK: 40, topP: 0.95, minP: 0, seed: null, maxTokens: SHORT, repeatPenalty: { ...LLAMA_CHAT_REPEAT_PENALTY } };
const seeded = (seed: number): GenerationSampling => ({ ...greedy, temperature: 0.8, seed });

interface Case {
  sampling: GenerationSampling;
  reply: RecordedReply;
}

describe.each<TestModelName>(['stories260K', 'tinyRandom'])('replay of %s replies', (name) => {
  let path: string;
  let engine: ReplayEngine;
  const cases: Case[] = [];
  const request = (c: Case, threads?: number): ReplayRequest => ({
    modelPath: path,
    inputTokens: c.reply.inputTokens,
    recordedOutputTokens: c.reply.outputTokens,
    contextSize: CONTEXT,
    sampling: c.sampling,
    recordedBuild: null,
    ...(threads ? { threads } : {}),
  });

  beforeAll(async () => {
    path = await testModelPath(name);
    const recorder = await ChatPathRecorder.open(path, { contextSize: CONTEXT, threads: 1 });
    try {
      const texts = prompts(PROMPTS);
      for (const [i, text] of texts.entries()) {
        const history = [{ type: 'system', text: 'You tell short stories.' } as const, { type: 'user', text } as const];
        for (const sampling of [greedy, seeded(1000 + i)]) cases.push({ sampling, reply: await recorder.reply(history, sampling) });
      }
    } finally {
      await recorder.close();
    }
    engine = new ReplayEngine({ logger: createConsoleLogger('error'), threads: 1 });
  });
  afterAll(() => engine?.dispose());

  it(`${PROMPTS} greedy and ${PROMPTS} seeded replies replay identically`, async () => {
    expect(cases).toHaveLength(PROMPTS * 2);
    expect(cases.every((c) => c.reply.outputTokens.length > 0)).toBe(true);
    const outcomes = [];
    for (const c of cases) outcomes.push((await engine.replay(request(c))).outcome);
    expect(outcomes.filter((o) => o !== 'identical')).toEqual([]);
    // Seeds matter: the seeded replies are not all the greedy ones.
    const differentFromGreedy = cases.filter((c, i) => i % 2 === 1 && !same(c.reply.outputTokens, cases[i - 1]!.reply.outputTokens));
    expect(differentFromGreedy.length).toBeGreaterThan(PROMPTS / 2);
  });

  it('replays identically with 1, 2 and 4 threads', async () => {
    // Short: on a machine with fewer cores than threads, llama.cpp's spinning threads make
    // each token slow, and the question is only whether the tokens change.
    const few = cases.slice(0, 2).map((c) => ({
      sampling: { ...c.sampling, maxTokens: THREADS_TOKENS },
      reply: { ...c.reply, outputTokens: c.reply.outputTokens.slice(0, THREADS_TOKENS) },
    }));
    for (const threads of [1, 2, 4]) {
      const outcomes = [];
      for (const c of few) outcomes.push((await engine.replay(request(c, threads))).outcome);
      expect({ threads, differing: outcomes.filter((o) => o !== 'identical').length }).toEqual({ threads, differing: 0 });
    }
  }, 180_000);

  it('replays identically after the model is loaded again', async () => {
    const some = cases.slice(0, 10);
    await engine.unloadModel();
    for (const c of some) expect((await engine.replay(request(c))).outcome).toBe('identical');
  });

  it('a changed output token is found at its index, with both continuations', async () => {
    const c = cases.find((x) => x.reply.outputTokens.length >= 8)!;
    const tampered: number[] = [...c.reply.outputTokens];
    tampered[5] = tampered[5] === 100 ? 101 : 100;
    const report = await engine.replay({ ...request(c), recordedOutputTokens: tampered });
    expect(report.outcome).toBe('differs');
    expect(report.differsAt).toBe(5);
    expect(report.replayedContinuation).not.toBe(report.recordedContinuation);
    expect(report.replayedContinuation!.length).toBeGreaterThan(0);
    expect(report.message).toMatch(/^Differs at token 5 of \d+: on the same build/);
  });
});

function same(a: readonly Token[], b: readonly Token[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}
