/** Models: the inference backend, models on disk and loaded, the catalog, the hub, hardware fit. */

import type { ErrorData } from '../errors';
import type { FitVerdict, GpuBackend, ModelKind, ModelPurpose, ModelTier } from '../vocabulary';

export interface BackendInfo {
  backend: GpuBackend;
  /** Human sentence: which backend and why, e.g. "CPU: no GPU found". */
  reason: string;
  /** True when the app runs on CPU although a GPU could be expected to help. */
  warning: boolean;
  gpuDevices: string[];
}

export interface ModelInfo {
  id: string;
  path: string;
  name: string;
  sizeBytes: number;
  architecture: string | null;
  contextLength: number | null;
  hasChatTemplate: boolean;
  /** What the model is for, from its metadata: chat/generation, embeddings or reranking. */
  kind: ModelKind;
  /** Parameter count, e.g. 494_032_768; null when the header does not allow counting. */
  parameters: number | null;
  /** The file's quantization, e.g. Q4_K_M or F16. */
  quantization: string | null;
  /** Layers to offload to the GPU; null lets node-llama-cpp choose what fits. */
  gpuLayers: number | null;
  /** True when the file lives in Hearth's models folder (downloaded or copied): deleting removes it. */
  managed: boolean;
  /** The purposes this model is the default for. */
  defaultFor: ModelPurpose[];
  addedAt: number;
  /** False when the file has gone missing since it was added. */
  present: boolean;
}

export interface LoadedModel {
  modelId: string;
  name: string;
  path: string;
  contextSize: number;
  gpuLayers: number;
  totalLayers: number;
  /** Which chat template formats prompts: the model's own or the general fallback. */
  chatTemplate: string;
  backend: BackendInfo;
  /** Set when a GPU is in use but not every layer is on it: how many are, and why. */
  gpuNote: string | null;
  /** Recent conversations kept evaluated (KV cache), and what they may cost. */
  warm: WarmCacheInfo;
}

/**
 * The loaded context's sequences: each keeps one recent conversation (a chat or an API
 * client's) evaluated, so returning to it evaluates only its new turn, and replies on
 * different sequences are generated at once.
 */
export interface WarmCacheInfo {
  /** How many sequences (conversations kept warm, replies at once); `contextSize` tokens each. */
  sequences: number;
  /** The KV cache's size in memory, all sequences together (llama.cpp's state size). */
  bytes: number;
  /** The memory the sequences were sized to fit: an eighth of RAM, at most 4 GiB. */
  budgetBytes: number;
  /** CPU threads inference runs on. */
  threads: number;
}

export type RuntimeState =
  | { state: 'idle'; backend: BackendInfo | null }
  | { state: 'loading'; modelId: string; name: string; progress: number; backend: BackendInfo | null }
  | { state: 'ready'; model: LoadedModel; generating: boolean }
  | { state: 'error'; modelId: string; error: ErrorData; backend: BackendInfo | null };

export interface CatalogFile {
  quantization: string;
  file: string;
  sizeBytes: number;
  /** As published by the hub for the file; null where not pinned (then the hub's value is used at download). */
  sha256: string | null;
}

export interface CatalogEntry {
  id: string;
  name: string;
  family: string;
  parameters: string;
  purpose: ModelPurpose;
  /** Size tier, for grouping: tiny (< 1B), small (1-4B), medium (7-9B). */
  tier: ModelTier;
  repo: string;
  license: string;
  contextLength: number;
  description: string;
  recommendedQuantization: string;
  files: CatalogFile[];
}

export interface HubModelSummary {
  repo: string;
  downloads: number;
  likes: number;
  gated: boolean;
  updatedAt: string | null;
}

export interface HubFile {
  file: string;
  sizeBytes: number | null;
  sha256: string | null;
  /** Parsed from the file name, e.g. Q4_K_M; null when it does not say. */
  quantization: string | null;
}

export interface FitResult {
  verdict: FitVerdict;
  /** "Fits on GPU", "Partly offloaded (20 of 33 layers)", "CPU only", "Won't fit". */
  label: string;
  gpuLayers: number;
  totalLayers: number;
  /** The context size this configuration allows, or null when it won't fit at all. */
  contextSize: number | null;
  /** Why, in a sentence (e.g. which resource runs out). */
  reason: string;
}

export interface HardwareInfo {
  cpuModel: string;
  cpuCores: number;
  ramBytes: number;
  freeRamBytes: number;
  backend: BackendInfo;
  vramBytes: number;
  freeVramBytes: number;
}

/** Where a model comes from when pulling it. */
export type ModelSource =
  | { kind: 'catalog'; id: string; quantization?: string }
  | { kind: 'hub'; repo: string; file: string; revision?: string }
  | { kind: 'url'; url: string; sha256?: string };
