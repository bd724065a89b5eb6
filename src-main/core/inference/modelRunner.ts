import type { FitResult, HardwareInfo, LoadedModel, ModelSource, RuntimeState } from '#contract/dto';
import type { HardwareFit } from '../models/hardwareFit';
import type { ModelLibrary } from '../models/modelLibrary';
import type { ResolvedSource } from '../models/resolveSource';
import type { SettingsRepository } from '../storage/settingsRepository';
import type { LlamaRuntime, LoadedSession } from './llamaRuntime';

/** What a fit is asked about: a model in the library, a GGUF file on disk, or a remote source. */
export type FitTarget = { kind: 'local'; modelId: string } | { kind: 'file'; path: string } | ModelSource;

/** Something that generates with the loaded model; it is stopped before the model is swapped or unloaded. */
export interface ModelUser {
  stopAll(): Promise<void>;
}

export interface ModelRunnerDeps {
  runtime: LlamaRuntime;
  models: ModelLibrary;
  settings: Pick<SettingsRepository, 'get'>;
  fit: HardwareFit;
  /** Turns a catalog, hub or URL source into a URL with its auth headers. */
  resolve(source: ModelSource, signal?: AbortSignal): Promise<ResolvedSource>;
}

/**
 * How the library's models run on this machine, for every front end alike: whether one would
 * fit, loading and unloading it (replies in progress are stopped first), loading the default
 * chat model on first use, and removing a model (unloaded first, so its file is not in use).
 */
export class ModelRunner {
  private readonly users = new Set<ModelUser>();

  constructor(private readonly deps: ModelRunnerDeps) {}

  /** Registers a user of the loaded model (the chat service registers itself). */
  addUser(user: ModelUser): () => void {
    this.users.add(user);
    return () => this.users.delete(user);
  }

  /** The runtime's state, with the backend known (starting node-llama-cpp if needed). */
  async state(): Promise<RuntimeState> {
    await this.deps.runtime.backendInfo();
    return this.deps.runtime.state();
  }

  /** This machine: CPU, memory, GPU and the inference backend in use. */
  async hardware(): Promise<HardwareInfo> {
    return { ...(await this.deps.fit.hardware()), backend: await this.deps.runtime.backendInfo() };
  }

  /**
   * How a model would run here: a library model with its GPU layers setting, a file by its path,
   * or a remote one (catalog entry, hub file, URL) by reading only its header.
   */
  async fit(target: FitTarget, options: { signal?: AbortSignal } = {}): Promise<FitResult> {
    const { signal } = options;
    if (target.kind === 'local') {
      const model = this.deps.models.get(target.modelId);
      return this.deps.fit.fit(model.path, { gpuLayers: model.gpuLayers, signal });
    }
    if (target.kind === 'file') return this.deps.fit.fit(target.path, { signal });
    const resolved = await this.deps.resolve(target, signal);
    return this.deps.fit.fit(resolved.url, { headers: resolved.headers, signal });
  }

  /** Loads a model for chat; replies in progress stop first. The context size defaults to the setting. */
  async load(modelId: string, options: { contextSize?: number | null } = {}): Promise<LoadedModel> {
    const row = this.deps.models.get(modelId);
    await this.stopUsers();
    return this.deps.runtime.load(row, { contextSize: options.contextSize ?? this.deps.settings.get().contextSize });
  }

  /** Unloads the model; replies in progress stop first. */
  async unload(): Promise<void> {
    await this.stopUsers();
    await this.deps.runtime.unload();
  }

  /** The loaded model, else the default chat model loaded now (load on first use); null when there is none. */
  async loadedOrDefault(): Promise<LoadedSession | null> {
    if (this.deps.runtime.loaded) return this.deps.runtime.loaded;
    const row = this.deps.models.defaultFor('chat');
    if (!row) return null;
    await this.deps.runtime.load(row, { contextSize: this.deps.settings.get().contextSize });
    return this.deps.runtime.loaded;
  }

  /** Forgets a model (deleting a file Hearth manages); a loaded model is unloaded first. */
  async remove(modelId: string): Promise<void> {
    if (this.deps.runtime.loaded?.info.modelId === modelId) await this.unload();
    await this.deps.models.remove(modelId);
  }

  private async stopUsers(): Promise<void> {
    await Promise.all([...this.users].map((user) => user.stopAll()));
  }
}
