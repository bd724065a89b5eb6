import { totalmem } from 'node:os';
import type { ChatWrapper, Llama, LlamaContext, LlamaModel } from 'node-llama-cpp';
import type { BackendInfo, LoadedModel, RuntimeState } from '#contract/dto';
import type { GpuSetting } from '#contract/vocabulary';
import { HearthError, toErrorData } from '../common/hearthError';
import type { Logger } from '../common/logger';
import { defaultThreads } from '../common/threads';
import { assertLoadable, inspectGguf } from '../models/ggufInspector';
import { type NodeLlamaCpp, nodeLlamaCpp } from '../models/nodeLlamaCpp';
import type { ModelRow } from '../storage/modelRepository';
import { GENERATION_BATCH_SIZE } from './inferenceBuild';
import { SequencePool } from './sequencePool';
import { kvBytesPerToken, planSequences, warmBudgetBytes } from './warmBudget';

export type { GpuSetting };

export interface LoadOptions {
  /** Tokens; null lets node-llama-cpp pick the largest that fits, up to defaultMaxContext. */
  contextSize: number | null;
  /** Context sequences (conversations kept warm); absent, as many as the warm budget holds, up to 4. */
  sequences?: number;
}

/** What a loaded model gives the chat service. */
export interface LoadedSession {
  info: LoadedModel;
  model: LlamaModel;
  context: LlamaContext;
  /** The context's sequences, lent to one generation each (see SequencePool). */
  pool: SequencePool;
  chatWrapper: ChatWrapper;
  /** From the library's row, for answer receipts. */
  architecture: string | null;
  quantization: string | null;
  /** True when the chat wrapper was resolved from the model's own chat template. */
  usesModelTemplate: boolean;
}

const DEFAULT_MAX_CONTEXT = 8192;

/**
 * Owns node-llama-cpp: one Llama instance (backend chosen once), at most one loaded model
 * with one context of several sequences (as many recent conversations as the warm budget
 * holds, see warmBudget.ts). Loading is single-flight and swapping unloads the old model first.
 */
export class LlamaRuntime {
  private llamaPromise: Promise<Llama> | null = null;
  private backend: BackendInfo | null = null;
  private current: LoadedSession | null = null;
  private loading: { modelId: string; promise: Promise<LoadedSession> } | null = null;
  private stateValue: RuntimeState = { state: 'idle', backend: null };
  private generatingCount = 0;
  private idleWaiters: (() => void)[] = [];

  private lastUsed = Date.now();
  private readonly idleTimer: ReturnType<typeof setInterval>;

  constructor(
    private readonly gpu: GpuSetting,
    /** CPU threads for inference; null uses defaultThreads (one per physical core but one). */
    private readonly threads: number | null,
    private readonly logger: Logger,
    private readonly onState: (state: RuntimeState) => void,
    /** Unload the model after this long unused; 0 never. Read each time, so settings apply at once. */
    private readonly idleUnloadMs: () => number = () => 0,
    idleCheckIntervalMs = 30_000,
  ) {
    this.idleTimer = setInterval(() => void this.unloadIfIdle(), idleCheckIntervalMs);
    this.idleTimer.unref();
  }

  /** Marks the model as in use now (the idle timer counts from the last use). */
  touch(): void {
    this.lastUsed = Date.now();
  }

  private async unloadIfIdle(): Promise<void> {
    const limit = this.idleUnloadMs();
    if (limit <= 0 || !this.current || this.loading || this.generatingCount > 0) return;
    if (Date.now() - this.lastUsed < limit) return;
    this.logger.info(`unloading ${this.current.info.name}: unused for ${Math.round(limit / 60_000)} min`);
    await this.unload();
  }

  llama(): Promise<Llama> {
    this.llamaPromise ??= nodeLlamaCpp().then(({ getLlama, LlamaLogLevel }) => getLlama({
      gpu: this.gpu === 'off' ? false : this.gpu,
      // Never compile llama.cpp at run time: use the prebuilt binaries or fail clearly.
      build: 'never',
      logLevel: LlamaLogLevel.warn,
      logger: (level, message) => {
        const text = message.trim();
        if (!text) return;
        if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) this.logger.error(`llama.cpp: ${text}`);
        else this.logger.debug(`llama.cpp: ${text}`);
      },
    })).then(async (llama) => {
      this.backend = await describeBackend(llama, this.gpu);
      if (this.stateValue.state === 'idle') this.setState({ state: 'idle', backend: this.backend });
      return llama;
    });
    return this.llamaPromise;
  }

  async backendInfo(): Promise<BackendInfo> {
    await this.llama();
    return this.backend!;
  }

  state(): RuntimeState {
    return this.stateValue;
  }

  get loaded(): LoadedSession | null {
    return this.current;
  }

  /** Loads a model; a second call for the same model joins the first instead of loading twice. */
  async load(row: ModelRow, options: LoadOptions): Promise<LoadedModel> {
    if (this.current?.info.modelId === row.id && !this.loading) return this.current.info;
    if (this.loading?.modelId === row.id) return (await this.loading.promise).info;
    if (this.loading) await this.loading.promise.catch(() => undefined);
    const promise = this.doLoad(row, options);
    this.loading = { modelId: row.id, promise };
    try {
      return (await promise).info;
    } finally {
      if (this.loading?.promise === promise) this.loading = null;
    }
  }

  async unload(): Promise<void> {
    if (this.loading) await this.loading.promise.catch(() => undefined);
    const session = this.current;
    this.current = null;
    if (session) {
      // Generations still running on other sequences (several run at once) end first.
      session.pool.dispose();
      await session.pool.drained();
      await session.context.dispose();
      await session.model.dispose();
    }
    this.setState({ state: 'idle', backend: this.backend });
  }

  /** The chat service brackets generation with these so the state can say "generating". */
  markGenerating(active: boolean): void {
    this.generatingCount += active ? 1 : -1;
    this.touch();
    if (this.generatingCount === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
    if (this.current) this.setState({ state: 'ready', model: this.current.info, generating: this.generatingCount > 0 });
  }

  /** True while a reply is being generated: background work (embedding) yields to it. */
  isGenerating(): boolean {
    return this.generatingCount > 0;
  }

  whenIdle(): Promise<void> {
    if (this.generatingCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async dispose(): Promise<void> {
    clearInterval(this.idleTimer);
    await this.unload();
    if (this.llamaPromise) await (await this.llamaPromise).dispose();
  }

  private async doLoad(row: ModelRow, options: LoadOptions): Promise<LoadedSession> {
    const llama = await this.llama();
    this.setState({ state: 'loading', modelId: row.id, name: row.name, progress: 0, backend: this.backend });
    try {
      const inspection = await inspectGguf(row.path, llama);
      assertLoadable(inspection, totalmem());

      // Free the old model before loading the next, so two never share memory.
      if (this.current) {
        const old = this.current;
        this.current = null;
        old.pool.dispose();
        await old.pool.drained();
        await old.context.dispose();
        await old.model.dispose();
      }

      const model = await llama.loadModel({
        modelPath: row.path,
        gpuLayers: row.gpuLayers ?? 'auto',
        onLoadProgress: (progress) =>
          this.setState({ state: 'loading', modelId: row.id, name: row.name, progress, backend: this.backend }),
      });
      const plan = planSequences(
        kvBytesPerToken(model),
        options.contextSize ?? Math.min(DEFAULT_MAX_CONTEXT, model.trainContextSize),
        warmBudgetBytes(totalmem()),
      );
      const threads = this.threads ?? defaultThreads(llama.cpuMathCores);
      let context: LlamaContext;
      try {
        context = await model.createContext({
          contextSize: options.contextSize ?? { max: DEFAULT_MAX_CONTEXT },
          sequences: options.sequences ?? plan.sequences,
          // Fixed, so a reply can be replayed bit for bit (see inferenceBuild.ts).
          batchSize: GENERATION_BATCH_SIZE,
          flashAttention: false,
          threads,
        });
      } catch (error) {
        await model.dispose();
        throw error;
      }
      const { GeneralChatWrapper, LlamaChat, resolveChatWrapper } = await nodeLlamaCpp();
      const chatWrapper: ChatWrapper = inspection.hasChatTemplate ? resolveChatWrapper(model) : new GeneralChatWrapper();
      const pooled = Array.from({ length: context.totalSequences }, () => {
        const sequence = context.getSequence();
        return { sequence, chat: new LlamaChat({ contextSequence: sequence, chatWrapper, autoDisposeSequence: false }) };
      });
      const session: LoadedSession = {
        info: {
          modelId: row.id,
          name: row.name,
          path: row.path,
          contextSize: context.contextSize,
          gpuLayers: model.gpuLayers,
          totalLayers: inspection.totalLayers,
          chatTemplate: inspection.hasChatTemplate
            ? `${chatWrapper.wrapperName} (from the model)`
            : `${chatWrapper.wrapperName} (the model has no chat template)`,
          backend: this.backend!,
          gpuNote: gpuNote(this.backend!, model.gpuLayers, inspection.totalLayers, row.gpuLayers),
          warm: { sequences: context.totalSequences, bytes: context.stateSize, budgetBytes: plan.budgetBytes, threads },
        },
        model,
        context,
        pool: new SequencePool(pooled),
        chatWrapper,
        architecture: row.architecture,
        quantization: row.quantization,
        usesModelTemplate: inspection.hasChatTemplate,
      };
      this.current = session;
      this.touch();
      this.setState({ state: 'ready', model: session.info, generating: false });
      return session;
    } catch (error) {
      const mapped = mapLoadError(error, row, await nodeLlamaCpp().catch(() => null));
      this.setState({ state: 'error', modelId: row.id, error: toErrorData(mapped), backend: this.backend });
      throw mapped;
    }
  }

  private setState(state: RuntimeState): void {
    this.stateValue = state;
    this.onState(state);
  }
}

/** On a GPU backend with layers left on the CPU, says how many and why; null otherwise. */
function gpuNote(backend: BackendInfo, gpuLayers: number, totalLayers: number, chosen: number | null): string | null {
  if (backend.backend === 'cpu' || gpuLayers >= totalLayers) return null;
  if (chosen !== null) return `${gpuLayers} of ${totalLayers} layers on the GPU, as set for this model; the rest run on the CPU.`;
  return `Only ${gpuLayers} of ${totalLayers} layers fit in free GPU memory; the rest run on the CPU, which is slower.`;
}

function mapLoadError(error: unknown, row: ModelRow, lib: NodeLlamaCpp | null): HearthError {
  if (error instanceof HearthError) return error;
  if (lib && error instanceof lib.InsufficientMemoryError) {
    return new HearthError('INSUFFICIENT_MEMORY', `Not enough memory to load ${row.name}: ${error.message}`, { cause: error });
  }
  return new HearthError('MODEL_LOAD_FAILED', `Could not load ${row.name}: ${(error as Error).message}`, { cause: error });
}

/** Says which backend runs inference and, when it is the CPU, why. */
async function describeBackend(llama: Llama, setting: GpuSetting): Promise<BackendInfo> {
  if (llama.gpu !== false) {
    const devices = await llama.getGpuDeviceNames().catch(() => []);
    const label = llama.gpu === 'cuda' ? 'CUDA' : llama.gpu === 'vulkan' ? 'Vulkan' : 'Metal';
    return { backend: llama.gpu, reason: `${label}: ${devices.join(', ') || 'GPU'}`, warning: false, gpuDevices: devices };
  }
  if (setting === 'off') {
    return { backend: 'cpu', reason: 'CPU: GPU use is turned off (--gpu off or HEARTH_GPU=off)', warning: false, gpuDevices: [] };
  }
  const supported = await (await nodeLlamaCpp()).getLlamaGpuTypes('supported').catch(() => []);
  const usable = supported.filter((type) => type !== false);
  if (usable.length === 0) {
    return {
      backend: 'cpu',
      reason: 'CPU: no GPU found (no CUDA, Vulkan or Metal driver detected). Replies will be slower.',
      warning: true,
      gpuDevices: [],
    };
  }
  return {
    backend: 'cpu',
    reason: `CPU: a GPU (${usable.join(', ')}) was detected but its backend failed to start; see the log. Replies will be slower.`,
    warning: true,
    gpuDevices: [],
  };
}
