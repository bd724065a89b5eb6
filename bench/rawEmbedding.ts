import type { LlamaModel } from 'node-llama-cpp';

/** One way to drive node-llama-cpp's embedding contexts over a list of texts. */
export interface RawMethod {
  /** Embedding contexts working at once (each its own llama.cpp context and sequence). */
  contexts: number;
  /** CPU threads of each context. */
  threads: number;
}

export interface RawResult extends RawMethod {
  label: string;
  seconds: number;
  textsPerSecond: number;
}

export const methodLabel = (m: RawMethod) => `${m.contexts} context${m.contexts === 1 ? '' : 's'} × ${m.threads} thread${m.threads === 1 ? '' : 's'}`;

/**
 * Embeds every text with `contexts` embedding contexts pulling from one queue, and times it
 * (context creation excluded). node-llama-cpp 3.21.1 evaluates one text per context at a time:
 * LlamaEmbeddingContext holds a single sequence, and the addon reads the embedding of sequence
 * 0 only (AddonContext::GetEmbedding calls llama_get_embeddings_seq(ctx, 0)), so several texts
 * in one batch across sequences cannot be read back; parallel contexts are the only way to
 * embed several texts at once.
 */
export async function embedRaw(model: LlamaModel, texts: readonly string[], method: RawMethod, contextSize: number): Promise<RawResult> {
  const contexts = [];
  for (let i = 0; i < method.contexts; i++) contexts.push(await model.createEmbeddingContext({ contextSize, threads: method.threads }));
  let next = 0;
  const started = performance.now();
  await Promise.all(
    contexts.map(async (context) => {
      for (let i = next++; i < texts.length; i = next++) await context.getEmbeddingFor(texts[i]!);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const context of contexts) await context.dispose();
  return { ...method, label: methodLabel(method), seconds, textsPerSecond: texts.length / seconds };
}

/**
 * The methods worth trying on a machine with this many math cores: one context per core (first:
 * what Hearth's pipeline does by default, measured closest in time to it on a shared machine),
 * and one context at 1 and at all threads.
 */
export function rawMethods(threads: number, mathCores: number): RawMethod[] {
  const all: RawMethod[] = [
    { contexts: mathCores, threads: 1 },
    { contexts: 1, threads },
    { contexts: 1, threads: mathCores },
  ];
  return all.filter((m, i) => all.findIndex((o) => o.contexts === m.contexts && o.threads === m.threads) === i);
}
