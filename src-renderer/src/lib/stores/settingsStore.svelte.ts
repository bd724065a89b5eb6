import type { CallInput } from '#contract/api';
import type { Settings } from '#contract/dto';
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
