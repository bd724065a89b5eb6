import { availableParallelism, cpus, freemem, totalmem } from 'node:os';
import { basename } from 'node:path';
import type { GgufFileInfo, GgufInsights, Llama } from 'node-llama-cpp';
import type { FitResult, HardwareInfo } from '#contract/dto';
import { egressFetch, withPurpose } from '../common/egress';
import { HearthError } from '../common/hearthError';
import { assertGgufFile } from './ggufInspector';
import { hubNetworkError, statusError } from './hubClient';
import { nodeLlamaCpp } from './nodeLlamaCpp';
import { isHtmlType, sniffGguf } from './sniffGguf';

export interface FitOptions {
  /** Sent with every request for a URL source (e.g. the hub token from HubClient.authHeaders()). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** The user's GPU layers setting for this model; null or absent lets node-llama-cpp choose. */
  gpuLayers?: number | null;
}

/** For ranking quantizations of one model. */
export interface FitCandidate {
  quantization: string;
  fit: FitResult;
  sizeBytes: number;
}

/** The first request to a URL must answer in this long. */
const PROBE_TIMEOUT_MS = 30_000;
/** Reading a header over the network: big vocabularies make headers of several MB. */
const HEADER_TIMEOUT_MS = 120_000;

/**
 * Says how a GGUF would run on this machine before it is downloaded or loaded: it reads only
 * the file's header (with range requests for a URL) and asks node-llama-cpp's configuration
 * resolver how many layers fit in VRAM and what context fits in what memory is left.
 */
export class HardwareFit {
  constructor(private readonly llama: () => Promise<Llama>) {}

  async hardware(): Promise<Omit<HardwareInfo, 'backend'>> {
    const llama = await this.llama();
    const vram = await llama.getVramState().catch(() => ({ total: 0, free: 0 }));
    const cpu = cpus();
    return {
      cpuModel: cpu[0]?.model.trim() || 'Unknown CPU',
      cpuCores: availableParallelism(),
      ramBytes: totalmem(),
      freeRamBytes: freemem(),
      vramBytes: vram.total,
      freeVramBytes: vram.free,
    };
  }

  /** How the GGUF at `source` (a local path or an http(s) URL) would run here. */
  async fit(source: string, options: FitOptions = {}): Promise<FitResult> {
    const llama = await this.llama();
    const info = isUrl(source) ? await readNetworkHeader(source, options) : await readLocalHeader(source, options.signal);
    let insights: GgufInsights;
    try {
      insights = await (await nodeLlamaCpp()).GgufInsights.from(info, llama);
    } catch (error) {
      throw new HearthError('CORRUPT_FILE', `${displayName(source)} has a GGUF header node-llama-cpp cannot use: ${(error as Error).message}`, { cause: error });
    }

    const totalLayers = insights.totalLayers;
    const gpuUsable = llama.gpu !== false && llama.supportsGpuOffloading;
    const forced = gpuUsable && options.gpuLayers != null ? Math.min(Math.max(0, Math.floor(options.gpuLayers)), totalLayers) : undefined;
    const { compatibilityScore, resolvedValues: r } = await insights.configurationResolver.resolveAndScoreConfig({
      targetGpuLayers: forced,
    });
    const vram = gpuUsable ? await llama.getVramState().catch(() => ({ total: 0, free: 0 })) : { total: 0, free: 0 };
    const ramTotal = totalmem();
    const context = `a ${r.contextSize.toLocaleString('en-US')}-token context`;

    // The resolver scores an unfit configuration exactly 0 (weights or context do not fit).
    if (compatibilityScore === 0) {
      const vramShort = r.gpuLayers > 0 && r.totalVramUsage > vram.total;
      return {
        verdict: 'none',
        label: "Won't fit",
        gpuLayers: 0,
        totalLayers,
        contextSize: null,
        reason: vramShort
          ? `With ${r.gpuLayers} of ${totalLayers} layers on the GPU it needs about ${gib(r.totalVramUsage)} of VRAM, but the GPU has ${gib(vram.total)}; lower the GPU layers.`
          : `It needs about ${gib(r.totalRamUsage + r.totalVramUsage)} of memory (weights plus ${context}), but this machine has ${gib(ramTotal)} of RAM${vram.total > 0 ? ` and ${gib(vram.total)} of VRAM` : ''}.`,
      };
    }

    const ramNote = r.totalRamUsage > freemem() ? ` Only ${gib(freemem())} of RAM is free now; close other apps first.` : '';
    if (r.gpuLayers <= 0) {
      const why = !gpuUsable
        ? 'No GPU is in use, so it runs on the CPU'
        : forced === 0
          ? 'GPU layers are set to 0 for this model, so it runs on the CPU'
          : `Not even one layer fits in the GPU's ${gib(vram.free)} of free VRAM, so it runs on the CPU`;
      return {
        verdict: 'cpu',
        label: 'CPU only',
        gpuLayers: 0,
        totalLayers,
        contextSize: r.contextSize,
        reason: `${why}, using about ${gib(r.totalRamUsage)} of RAM with ${context}.${ramNote}`,
      };
    }
    if (r.gpuLayers >= totalLayers) {
      return {
        verdict: 'gpu',
        label: 'Fits on GPU',
        gpuLayers: r.gpuLayers,
        totalLayers,
        contextSize: r.contextSize,
        reason: `All ${totalLayers} layers fit on the GPU, using about ${gib(r.totalVramUsage)} of its ${gib(vram.free)} free VRAM with ${context}.${ramNote}`,
      };
    }
    return {
      verdict: 'partial',
      label: `Partly offloaded (${r.gpuLayers} of ${totalLayers} layers)`,
      gpuLayers: r.gpuLayers,
      totalLayers,
      contextSize: r.contextSize,
      reason:
        forced !== undefined
          ? `GPU layers are set to ${r.gpuLayers} of ${totalLayers}; the rest run on the CPU, so replies are slower than with all layers on the GPU.${ramNote}`
          : `Only ${r.gpuLayers} of ${totalLayers} layers fit in the GPU's ${gib(vram.free)} of free VRAM with ${context}; the rest run on the CPU, so replies are slower.${ramNote}`,
    };
  }

  /**
   * One quantization to suggest: the largest (best quality) that fits on the GPU, else the
   * largest partly offloaded, else the smallest CPU-only one (on a CPU, smaller is faster),
   * else null when nothing fits.
   */
  recommend(results: FitCandidate[]): string | null {
    const withVerdict = (verdict: FitResult['verdict']) => results.filter((r) => r.fit.verdict === verdict);
    const largest = (list: FitCandidate[]) => list.reduce((a, b) => (b.sizeBytes > a.sizeBytes ? b : a));
    const smallest = (list: FitCandidate[]) => list.reduce((a, b) => (b.sizeBytes < a.sizeBytes ? b : a));
    const gpu = withVerdict('gpu');
    if (gpu.length > 0) return largest(gpu).quantization;
    const partial = withVerdict('partial');
    if (partial.length > 0) return largest(partial).quantization;
    const cpu = withVerdict('cpu');
    if (cpu.length > 0) return smallest(cpu).quantization;
    return null;
  }
}

function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

async function readLocalHeader(path: string, signal?: AbortSignal): Promise<GgufFileInfo> {
  await assertGgufFile(path);
  try {
    const { readGgufFileInfo } = await nodeLlamaCpp();
    return await readGgufFileInfo(path, { sourceType: 'filesystem', logWarnings: false, signal });
  } catch (error) {
    if (signal?.aborted) throw new HearthError('CANCELLED', 'Cancelled', { cause: error });
    throw new HearthError('CORRUPT_FILE', `${basename(path)} has a damaged or incomplete GGUF header (${(error as Error).message})`, { cause: error });
  }
}

/**
 * Asks for the first bytes before node-llama-cpp reads the header, so a gate, a missing file
 * or an HTML page gets its own clear error at once instead of after the reader's retries.
 */
async function readNetworkHeader(url: string, options: FitOptions): Promise<GgufFileInfo> {
  const origin = new URL(url).origin;
  const headers = options.headers ?? {};
  const probeSignal = withTimeout(options.signal, PROBE_TIMEOUT_MS);
  let response: Response;
  let first: Buffer;
  try {
    response = await egressFetch('model-probe', url, { headers: { ...headers, Range: 'bytes=0-3' }, signal: probeSignal });
    if (!response.ok) throw statusError(response, await response.text(), subjectOf(url));
    first = await readFirstBytes(response, 4);
  } catch (error) {
    throw hubNetworkError(error, origin, options.signal);
  }
  const sniff = sniffGguf(first);
  if (!sniff.gguf) {
    // Mirrors and captive portals often answer 200 with a page; say so rather than "corrupt".
    const page = isHtmlType(response.headers.get('content-type')) || sniff.page;
    throw new HearthError(
      'CORRUPT_FILE',
      `${displayName(url)} is not a GGUF model file${page ? ' (the server sent a web page, perhaps a login or error page)' : ''}`,
    );
  }

  try {
    // node-llama-cpp reads the header with fetch of its own, in ranged requests.
    const { readGgufFileInfo } = await nodeLlamaCpp();
    return await withPurpose('model-probe', () => readGgufFileInfo(url, {
      sourceType: 'network',
      fetchHeaders: headers,
      logWarnings: false,
      signal: withTimeout(options.signal, HEADER_TIMEOUT_MS),
      // The probe just succeeded, so failures now are brief; node-llama-cpp's default retries for minutes.
      fetchRetryOptions: { retries: 2, factor: 2, minTimeout: 250, maxTimeout: 2000 },
    }));
  } catch (error) {
    if (options.signal?.aborted) throw new HearthError('CANCELLED', 'Cancelled', { cause: error });
    const status = /Failed to fetch byte range: (\d{3})/.exec((error as Error).message)?.[1];
    if (status) throw statusError(new Response(null, { status: Number(status) }), '', subjectOf(url));
    if (error instanceof TypeError || (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError') {
      throw hubNetworkError(error, origin, undefined, HEADER_TIMEOUT_MS);
    }
    throw new HearthError('CORRUPT_FILE', `${displayName(url)} has a damaged or incomplete GGUF header (${(error as Error).message})`, { cause: error });
  }
}

/** Reads at least `count` bytes of the body, then stops: a server that ignores Range must not send us the whole model. */
async function readFirstBytes(response: Response, count: number): Promise<Buffer> {
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    while (length < count) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(Buffer.from(value));
      length += value.length;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, count);
}

function withTimeout(signal: AbortSignal | undefined, ms: number): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

/** A hub resolve URL names its repository (owner/name); any other URL names itself. */
function subjectOf(url: string): string {
  const match = /^\/([^/]+\/[^/]+)\/resolve\//.exec(new URL(url).pathname);
  return match?.[1] ? decodeURIComponent(match[1]) : displayName(url);
}

function displayName(source: string): string {
  if (!isUrl(source)) return basename(source);
  const url = new URL(source);
  return `${url.origin}${url.pathname}`;
}

function gib(bytes: number): string {
  if (bytes < 1024 ** 3) return `${Math.max(1, Math.round(bytes / 1024 ** 2))} MiB`;
  const value = bytes / 1024 ** 3;
  return `${value >= 10 ? value.toFixed(0) : value.toFixed(1)} GiB`;
}
