import { modelDisplayName } from './modelName';
import { basename } from 'node:path';
import type { GgmlType, GgufInsights, Llama } from 'node-llama-cpp';
import type { ModelKind } from '#contract/vocabulary';
import { fileError } from '../common/fsErrors';
import { HearthError } from '../common/hearthError';
import { statRegularFile } from '../common/regularFile';
import { type NodeLlamaCpp, nodeLlamaCpp } from './nodeLlamaCpp';
import { readFilePrefix, sniffGguf } from './sniffGguf';

export interface GgufInspection {
  path: string;
  name: string;
  sizeBytes: number;
  architecture: string | null;
  contextLength: number | null;
  hasChatTemplate: boolean;
  /** Bytes the weights take in memory, from node-llama-cpp's GGUF insights. */
  modelBytes: number;
  totalLayers: number;
  /** Bytes the file must have to hold every tensor its header declares. */
  requiredFileBytes: number;
  kind: ModelKind;
  parameters: number | null;
  quantization: string | null;
}

/** A file-system error reading a model file, with a sentence a person can act on. */
export function modelFileError(error: unknown, path: string): HearthError {
  return fileError(error, path, {
    notFound: `No file at ${path}`,
    denied: `No permission to read ${path}`,
    isFolder: `${path} is a folder, not a model file`,
    other: `Cannot read ${path}: ${(error as Error).message}`,
  });
}

/**
 * Checks that a local path is a readable file that starts like a GGUF, and returns its size:
 * FILE_NOT_FOUND or FILE_UNREADABLE for the file system's refusals, NOT_A_REGULAR_FILE for a
 * FIFO, socket or device, CORRUPT_FILE otherwise.
 */
export async function assertGgufFile(path: string): Promise<number> {
  try {
    // A FIFO, socket or device is refused before anything opens it (NOT_A_REGULAR_FILE).
    const info = await statRegularFile(path, { expected: 'a model file' });
    if (!sniffGguf(await readFilePrefix(path, 4)).gguf) {
      throw new HearthError('CORRUPT_FILE', `${basename(path)} is not a GGUF model file (it does not start with "GGUF")`);
    }
    return info.size;
  } catch (error) {
    throw modelFileError(error, path);
  }
}

/**
 * Checks a model file before anything loads it: present, readable, a GGUF, complete
 * (llama.cpp maps the file, and a truncated one can crash the process), and reads the
 * metadata the UI shows.
 */
export async function inspectGguf(path: string, llama: Llama): Promise<GgufInspection> {
  const sizeBytes = await assertGgufFile(path);

  const lib = await nodeLlamaCpp();
  let insights: GgufInsights;
  try {
    const fileInfo = await lib.readGgufFileInfo(path, { sourceType: 'filesystem', logWarnings: false });
    insights = await lib.GgufInsights.from(fileInfo, llama);
  } catch (error) {
    throw new HearthError('CORRUPT_FILE', `${basename(path)} has a damaged or incomplete GGUF header (${(error as Error).message})`, {
      cause: error,
    });
  }

  const fileInfo = insights.ggufFileInfo;
  const general = fileInfo.metadata.general as { architecture?: string; name?: string } | undefined;
  const tokenizer = fileInfo.metadata.tokenizer as { chat_template?: string } | undefined;
  // The weights start at the first tensor and take at least modelSize bytes after it
  // (tensors are padded, never packed tighter), so a shorter file is certainly truncated.
  const offsets = (fileInfo.fullTensorInfo ?? fileInfo.tensorInfo ?? []).map((t) => Number(t.fileOffset));
  const dataStart = offsets.length > 0 ? Math.min(...offsets) : 0;
  return {
    path,
    name: modelDisplayName(general?.name, path, general?.architecture ?? null),
    sizeBytes,
    architecture: general?.architecture ?? null,
    contextLength: insights.trainContextSize ?? null,
    hasChatTemplate: typeof tokenizer?.chat_template === 'string' && tokenizer.chat_template.length > 0,
    modelBytes: insights.modelSize,
    totalLayers: insights.totalLayers,
    requiredFileBytes: dataStart + insights.modelSize,
    kind: modelKind(insights),
    parameters: insights.totalParameters > 0 ? insights.totalParameters : null,
    quantization: quantizationName(lib, general as { file_type?: number } | undefined, insights.dominantTensorType),
  };
}

/**
 * Throws INSUFFICIENT_MEMORY when the weights alone exceed this machine's memory, and
 * CORRUPT_FILE when the file is shorter than the tensors its header declares.
 */
export function assertLoadable(inspection: GgufInspection, totalMemoryBytes: number): void {
  if (inspection.modelBytes > totalMemoryBytes * 0.9) {
    throw new HearthError(
      'INSUFFICIENT_MEMORY',
      `${inspection.name} needs about ${gib(inspection.modelBytes)} of memory for its weights; this machine has ${gib(totalMemoryBytes)} in all.`,
    );
  }
  if (inspection.sizeBytes < inspection.requiredFileBytes) {
    throw new HearthError(
      'CORRUPT_FILE',
      `${basename(inspection.path)} is truncated: it has ${inspection.sizeBytes} bytes but its weights need at least ${inspection.requiredFileBytes}. Download it again.`,
    );
  }
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

/** Rerankers carry a ranking head; embedding models pool (or have no decoder); the rest generate. */
function modelKind(insights: GgufInsights): GgufInspection['kind'] {
  if (insights.supportsRanking) return 'rerank';
  const arch = insights.ggufFileInfo.architectureMetadata as { pooling_type?: unknown };
  if (arch.pooling_type !== undefined || !insights.hasDecoder) return 'embedding';
  return 'generative';
}

/** general.file_type as llama.cpp names it (Q4_K_M, F16, ...), else the most common tensor type. */
function quantizationName(lib: NodeLlamaCpp, general: { file_type?: number } | undefined, dominant: GgmlType | undefined): string | null {
  const fileType = general?.file_type === undefined ? undefined : (lib.GgufFileType as unknown as Record<number, string | undefined>)[general.file_type];
  if (fileType) return fileType.replace(/^(MOSTLY_|ALL_)/, '');
  return dominant === undefined ? null : ((lib.GgmlType as unknown as Record<number, string | undefined>)[dominant] ?? null);
}
