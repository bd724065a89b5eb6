import type { CallInput } from '#contract/api';
import type { GenerationParams, Settings, ThreadGeneration } from '#contract/dto';
import type { HearthBridge } from '../api/client';
import type { ToastStore } from './toastStore.svelte';

/** The core's settings, as settings.get last answered. */
export class SettingsStore {
  value = $state<Settings | null>(null);
  saving = $state(false);

  constructor(
    private readonly bridge: HearthBridge,
    private readonly toasts: ToastStore,
  ) {}

  async refresh(): Promise<void> {
    const result = await this.bridge.call('settings.get', {});
    if (result.ok) this.value = result.value;
    else this.toasts.error(result.error);
  }

  /** A chat's own sampling values and what its next reply uses. */
  async threadGeneration(threadId: string): Promise<ThreadGeneration | null> {
    const result = await this.bridge.call('threads.generation', { threadId });
    if (result.ok) return result.value;
    this.toasts.error(result.error);
    return null;
  }

  /** null puts the chat back on the saved defaults. */
  async setThreadGeneration(threadId: string, overrides: Partial<GenerationParams> | null): Promise<ThreadGeneration | null> {
    const result = await this.bridge.call('threads.setGeneration', { threadId, overrides });
    if (result.ok) return result.value;
    this.toasts.error(result.error);
    return null;
  }

  /** Puts these settings back to their defaults (the core knows them). */
  async reset(keys: CallInput<'settings.reset'>['keys']): Promise<Settings | null> {
    this.saving = true;
    try {
      const result = await this.bridge.call('settings.reset', { keys });
      if (!result.ok) {
        this.toasts.error(result.error);
        return null;
      }
      this.value = result.value;
      return result.value;
    } finally {
      this.saving = false;
    }
  }

  async update(patch: CallInput<'settings.update'>): Promise<Settings | null> {
    this.saving = true;
    try {
      const result = await this.bridge.call('settings.update', patch);
      if (!result.ok) {
        this.toasts.error(result.error);
        return null;
      }
      this.value = result.value;
      return result.value;
    } finally {
      this.saving = false;
    }
  }
}
