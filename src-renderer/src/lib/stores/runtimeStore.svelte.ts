import type { BackendInfo, LoadedModel, ModelInfo, RuntimeState } from '#contract/dto';
import type { HearthBridge } from '../api/client';
import type { ToastStore } from './toastStore.svelte';

/** The model runtime as the UI sees it: known models, what is loaded, which backend runs it. */
export class RuntimeStore {
  state = $state<RuntimeState>({ state: 'idle', backend: null });
  models = $state<ModelInfo[]>([]);
  /** The model chosen in the picker; loading it is a separate step. */
  selectedModelId = $state('');
  /** A load, unload or add call is in flight. */
  busy = $state(false);
  /** Set once runtime.state has answered, so "detecting" is not mistaken for "no backend". */
  known = $state(false);
  /** Set once models.list has answered, so an empty library is not mistaken for one still loading. */
  modelsKnown = $state(false);

  readonly loaded: LoadedModel | null = $derived(this.state.state === 'ready' ? this.state.model : null);
  readonly backend: BackendInfo | null = $derived(
    this.state.state === 'ready' ? this.state.model.backend : this.state.backend,
  );
  readonly loading = $derived(this.state.state === 'loading');

  constructor(
    private readonly bridge: HearthBridge,
    private readonly toasts: ToastStore,
  ) {}

  setState(state: RuntimeState): void {
    const before = activeModelId(this.state);
    this.state = state;
    this.known = true;
    // Follow the runtime only when its model changes, not on every generating tick, so a
    // choice the user is about to load is not snatched away.
    const after = activeModelId(state);
    if (after && after !== before) this.selectedModelId = after;
  }

  async refresh(): Promise<void> {
    const [state, models] = await Promise.all([
      this.bridge.call('runtime.state', {}),
      this.bridge.call('models.list', {}),
    ]);
    if (state.ok) this.setState(state.value);
    else this.toasts.error(state.error, () => this.refresh());
    if (models.ok) this.setModels(models.value);
    else this.toasts.error(models.error, () => this.refresh());
  }

  async refreshModels(): Promise<void> {
    const models = await this.bridge.call('models.list', {});
    if (models.ok) this.setModels(models.value);
    else this.toasts.error(models.error, () => this.refreshModels());
  }

  async load(modelId = this.selectedModelId): Promise<void> {
    if (!modelId) return;
    this.busy = true;
    try {
      const result = await this.bridge.call('runtime.load', { modelId });
      if (result.ok) {
        this.setState({ state: 'ready', model: result.value, generating: false });
      } else {
        this.toasts.error(result.error, () => this.load(modelId));
        await this.syncState();
      }
    } finally {
      this.busy = false;
    }
  }

  async unload(): Promise<void> {
    this.busy = true;
    try {
      const result = await this.bridge.call('runtime.unload', {});
      if (!result.ok) this.toasts.error(result.error);
      await this.syncState();
    } finally {
      this.busy = false;
    }
  }

  private async syncState(): Promise<void> {
    const state = await this.bridge.call('runtime.state', {});
    if (state.ok) this.setState(state.value);
    else this.toasts.error(state.error);
  }

  private setModels(models: ModelInfo[]): void {
    this.models = models;
    this.modelsKnown = true;
    // A sensible default so a first-time user only has to press Load.
    if (!this.selectedModelId || !models.some((m) => m.id === this.selectedModelId)) {
      this.selectedModelId = this.loaded?.modelId ?? models.find((m) => m.present)?.id ?? '';
    }
  }
}

function activeModelId(state: RuntimeState): string | null {
  if (state.state === 'ready') return state.model.modelId;
  if (state.state === 'loading') return state.modelId;
  return null;
}
