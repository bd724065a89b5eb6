import type { LlamaModel } from 'node-llama-cpp';

/** At most this many conversations are kept evaluated at once (one context sequence each). */
export const MAX_WARM_SEQUENCES = 4;

const GiB = 1024 ** 3;

/**
 * The memory the kept conversations' KV cache may take: an eighth of the machine's memory, at
 * most 4 GiB. One sequence is always allowed, so a model loads as it did before.
 */
export function warmBudgetBytes(totalMemoryBytes: number): number {
  return Math.min(4 * GiB, Math.floor(totalMemoryBytes / 8));
}

export interface WarmPlan {
  sequences: number;
  /** Estimated KV cache bytes of one sequence of the given context size. */
  bytesPerSequence: number;
  budgetBytes: number;
}

/** How many sequences of `contextSize` tokens fit the budget (1 to MAX_WARM_SEQUENCES). */
export function planSequences(bytesPerToken: number, contextSize: number, budgetBytes: number): WarmPlan {
  const bytesPerSequence = Math.ceil(bytesPerToken * contextSize);
  const fit = bytesPerSequence > 0 ? Math.floor(budgetBytes / bytesPerSequence) : MAX_WARM_SEQUENCES;
  return { sequences: Math.max(1, Math.min(MAX_WARM_SEQUENCES, fit)), bytesPerSequence, budgetBytes };
}

/**
 * KV cache bytes per token of context for this model as loaded (its GPU layers included),
 * from node-llama-cpp's estimate for two context sizes: the difference is the cache alone.
 */
export function kvBytesPerToken(model: LlamaModel): number {
  const estimate = (contextSize: number) => {
    const { cpuRam, gpuVram } = model.fileInsights.estimateContextResourceRequirements({
      contextSize,
      modelGpuLayers: model.gpuLayers,
      sequences: 1,
      includeGraphOverhead: false,
      flashAttention: false,
    });
    return cpuRam + gpuVram;
  };
  return Math.max(0, (estimate(2048) - estimate(1024)) / 1024);
}
