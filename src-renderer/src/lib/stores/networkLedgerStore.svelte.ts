import type { NetworkLedgerView } from '#contract/dto';
import type { HearthBridge } from '../api/client';
import type { ToastStore } from './toastStore.svelte';

/** How many of the latest requests Settings lists. */
const SHOWN = 50;

/** The network ledger as network.ledger last answered: what left this machine, and why. */
export class NetworkLedgerStore {
  view = $state<NetworkLedgerView | null>(null);
  loading = $state(false);

  constructor(
    private readonly bridge: HearthBridge,
    private readonly toasts: ToastStore,
  ) {}

  async refresh(): Promise<void> {
    this.loading = true;
    try {
      const result = await this.bridge.call('network.ledger', { limit: SHOWN });
      if (result.ok) this.view = result.value;
      else this.toasts.error(result.error);
    } finally {
      this.loading = false;
    }
  }
}
