import type { ModelInfo, ModelPurpose } from '#contract/dto';
import type { HearthBridge } from '../api/client';
import { modelLabel } from '../util/format';
import type { RuntimeStore } from './runtimeStore.svelte';
import type { ToastStore } from './toastStore.svelte';

/** The purpose a model can be the default for, from what it is. */
export function purposeOf(model: Pick<ModelInfo, 'kind'>): ModelPurpose {
  return model.kind === 'generative' ? 'chat' : model.kind;
}

/**
 * "On this machine": import, defaults, GPU layers and deletion. The list itself lives in
 * the runtime store, which the chat's model picker shares.
 */
export class LibraryStore {
  /** Model ids with a call in flight. */
  pending = $state<Record<string, boolean>>({});
  importing = $state(false);

  constructor(
    private readonly bridge: HearthBridge,
    private readonly toasts: ToastStore,
    private readonly runtime: RuntimeStore,
  ) {}

  get models(): ModelInfo[] {
    return this.runtime.models;
  }

  async importFile(path: string, copy: boolean): Promise<boolean> {
    const trimmed = path.trim();
    if (!trimmed) return false;
    this.importing = true;
    try {
      const result = await this.bridge.call('models.import', { path: trimmed, copy });
      if (!result.ok) {
        this.toasts.error(result.error);
        return false;
      }
      await this.runtime.refreshModels();
      const label = modelLabel(result.value);
      this.toasts.info(copy ? `Copied ${label} into Hearth's models folder.` : `Added ${label}; it stays where it is.`);
      return true;
    } finally {
      this.importing = false;
    }
  }

  /** Desktop only: the native file dialog; returns the chosen path. */
  async pickFile(): Promise<string | null> {
    const picked = await this.bridge.call('models.pickFile', {});
    if (!picked.ok) {
      this.toasts.error(picked.error);
      return null;
    }
    return picked.value;
  }

  /** Makes the model the default for what it does, or (on false) clears that default. */
  setDefault(model: ModelInfo, on: boolean): Promise<void> {
    return this.withModel(model.id, async () => {
      const result = await this.bridge.call('models.setDefault', { modelId: on ? model.id : null, purpose: purposeOf(model) });
      if (!result.ok) this.toasts.error(result.error);
      await this.runtime.refreshModels();
    });
  }

  /**
   * Makes any model in the library the one that embeds documents (a chat model too: it works,
   * with weaker vectors); null goes back to the first dedicated embedding model, or full text only.
   */
  setEmbeddingModel(modelId: string | null): Promise<void> {
    return this.withModel(modelId ?? 'embedding-default', async () => {
      const result = await this.bridge.call('models.setDefault', { modelId, purpose: 'embedding' });
      if (!result.ok) this.toasts.error(result.error);
      await this.runtime.refreshModels();
    });
  }

  /** null lets node-llama-cpp decide how many layers fit on the GPU. */
  setGpuLayers(modelId: string, gpuLayers: number | null): Promise<void> {
    return this.withModel(modelId, async () => {
      const result = await this.bridge.call('models.setGpuLayers', { modelId, gpuLayers });
      if (!result.ok) {
        this.toasts.error(result.error);
        return;
      }
      const index = this.runtime.models.findIndex((m) => m.id === modelId);
      if (index >= 0) this.runtime.models[index] = result.value;
    });
  }

  async remove(model: ModelInfo): Promise<boolean> {
    let removed = false;
    await this.withModel(model.id, async () => {
      const result = await this.bridge.call('models.remove', { modelId: model.id });
      if (!result.ok) this.toasts.error(result.error);
      else {
        removed = true;
        const label = modelLabel(model);
        this.toasts.info(model.managed ? `Deleted ${label}.` : `Hearth forgot ${label}; the file is still where it was.`);
      }
      await this.runtime.refreshModels();
    });
    return removed;
  }

  private async withModel(modelId: string, work: () => Promise<void>): Promise<void> {
    if (this.pending[modelId]) return;
    this.pending[modelId] = true;
    try {
      await work();
    } finally {
      delete this.pending[modelId];
    }
  }
}
