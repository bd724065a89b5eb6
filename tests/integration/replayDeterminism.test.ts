import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Token } from 'node-llama-cpp';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import type { GenerationSampling } from '../../src-main/core/inference/generationSampling';
import { ReplayEngine, type ReplayRequest } from '../../src-main/core/inference/replayEngine';
import { ChatPathRecorder, prompts, type RecordedReply } from '../support/recordedReplies';
import { testModelPath, type TestModelName } from '../support/testModels';

/**
 * Determinism, measured: replies generated the way the chat generates them (one context
 * shared from reply to reply, the chat's sampling) replay token for token on a fresh context,
 * greedy and seeded, on both test models; and the replay gives the same tokens with 1, 2 or 4
 * threads and after the model is loaded again. README ("Replay and determinism") reports it.
 */

const PROMPTS = 50;
const CONTEXT = 2048;
const SHORT = 24;
/** Short: with more threads than free cores, llama.cpp's spinning threads make each token slow. */
const THREADS_TOKENS = 4;

/** The chat's sampling (promptBuilder's samplingFor): node-llama-cpp's top-k/top-p, no penalty. */
const greedy: GenerationSampling = { temperature: 0, topK: 40, topP: 0.95, minP: 0, seed: 0, maxTokens: SHORT, repeatPenalty: null };
const seeded = (seed: number): GenerationSampling => ({ ...greedy, temperature: 0.8, seed });

interface Case {
  sampling: GenerationSampling;
  reply: RecordedReply;
}

describe.each<TestModelName>(['stories260K', 'tinyRandom'])('replay of %s replies', (name) => {
  let path: string;
  let recorder: ChatPathRecorder;
  let engine: ReplayEngine;
  const cases: Case[] = [];
  const short: Case[] = [];
  const request = (c: Case, threads?: number): ReplayRequest => ({
    modelPath: path,
    inputTokens: c.reply.inputTokens,
    recorded: c.reply.output,
    contextSize: CONTEXT,
    sampling: c.sampling,
    recordedBuild: null,
    ...(threads ? { threads } : {}),
  });

  beforeAll(async () => {
    path = await testModelPath(name);
    recorder = await ChatPathRecorder.open(path, { contextSize: CONTEXT, threads: 1 });
    for (const [i, text] of prompts(PROMPTS).entries()) {
      const history = [{ type: 'system', text: 'You tell short stories.' } as const, { type: 'user', text } as const];
      for (const sampling of [greedy, seeded(1000 + i)]) cases.push({ sampling, reply: await recorder.reply(history, sampling) });
      if (i < 2) {
        const sampling = { ...seeded(i), maxTokens: THREADS_TOKENS };
        short.push({ sampling, reply: await recorder.reply(history, sampling) });
      }
    }
    engine = new ReplayEngine({ logger: createConsoleLogger('error'), threads: 1 });
  });
  afterAll(async () => {
    await engine?.dispose();
    await recorder?.close();
  });

  it(`${PROMPTS} greedy and ${PROMPTS} seeded replies replay identically`, async () => {
    expect(cases).toHaveLength(PROMPTS * 2);
    expect(cases.every((c) => c.reply.outputTokens.length > 0)).toBe(true);
    const outcomes = [];
    for (const c of cases) outcomes.push((await engine.replay(request(c))).outcome);
    expect(outcomes.filter((o) => o !== 'identical')).toEqual([]);
    // Seeds matter: most seeded replies are not the greedy one.
    const differentFromGreedy = cases.filter((c, i) => i % 2 === 1 && !same(c.reply.outputTokens, cases[i - 1]!.reply.outputTokens));
    expect(differentFromGreedy.length).toBeGreaterThan(PROMPTS / 2);
  });

  it('replays identically with 1, 2 and 4 threads', async () => {
    expect(short.every((c) => c.reply.outputTokens.length === THREADS_TOKENS)).toBe(true);
    for (const threads of [1, 2, 4]) {
      const outcomes = [];
      for (const c of short) outcomes.push((await engine.replay(request(c, threads))).outcome);
      expect({ threads, differing: outcomes.filter((o) => o !== 'identical').length }).toEqual({ threads, differing: 0 });
    }
  }, 180_000);

  it('replays identically after the model is loaded again', async () => {
    await engine.unloadModel();
    for (const c of cases.slice(0, 10)) expect((await engine.replay(request(c))).outcome).toBe('identical');
  });

  it('a changed output token is found at its index, with both continuations', async () => {
    const c = cases.find((x) => x.reply.outputTokens.length >= 12 && x.sampling.temperature === 0)!;
    const tampered = [...c.reply.outputTokens];
    tampered[5] = c.reply.outputTokens[6]!;
    tampered[6] = c.reply.outputTokens[5]!;
    const report = await engine.replay({ ...request(c), recorded: recorder.recorded(c.reply, tampered as Token[]) });
    expect(report.outcome).toBe('differs');
    expect(report.differsAt).toBeLessThanOrEqual(5);
    expect(report.replayedContinuation).not.toBe(report.recordedContinuation);
    expect(report.message).toMatch(/^Differs at token \d+ of \d+: on the same build/);
  });

  it('a reply cut short is found when its receipt says the model ended there', async () => {
    const c = cases.find((x) => x.reply.outputTokens.length >= 4)!;
    const cut = { ...recorder.recorded(c.reply, c.reply.outputTokens.slice(0, 3)), stopReason: 'eogToken' };
    const report = await engine.replay({ ...request(c), recorded: cut });
    expect(report).toMatchObject({ outcome: 'differs', differsAt: 3, endsWhereModelEnds: false });
    expect(report.message).toContain('the receipt says the model ended its text there, but the replay goes on');
  });

  it('a reply sampled at random without a seed is not replayable, and says why', async () => {
    const report = await engine.replay({ ...request(cases[1]!), sampling: { ...cases[1]!.sampling, seed: null } });
    expect(report).toMatchObject({ outcome: 'not-replayable', message: expect.stringContaining('without a recorded seed') });
  });

  it('a difference on another build is reported as such, not as tampering', async () => {
    const c = cases[0]!;
    const here = await engine.build();
    const tampered = recorder.recorded(c.reply, [...c.reply.outputTokens.slice(0, -1), c.reply.outputTokens.at(-2)!]);
    const report = await engine.replay({ ...request(c), recorded: tampered, recordedBuild: { ...here, backend: 'cuda' } });
    expect(report.outcome).toBe('differs');
    expect(report.buildDifferences).toEqual(['backend cuda, replayed on cpu']);
    expect(report.message).toContain('a difference is not proof of tampering');
  });
});

function same(a: readonly Token[], b: readonly Token[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}
