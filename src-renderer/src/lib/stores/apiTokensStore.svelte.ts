import type { CallInput } from '#contract/api';
import type { ApiToken, ApiTokenCreated } from '#contract/dto';
import type { HearthBridge } from '../api/client';
import type { ToastStore } from './toastStore.svelte';

/** API tokens for the local API and MCP, as apiTokens.list last answered; a new token's secret is kept only until dismissed. */
export class ApiTokensStore {
  tokens = $state<ApiToken[]>([]);
  /** The token just created, with its secret: shown once, never fetched again. */
  created = $state<ApiTokenCreated | null>(null);
  busy = $state(false);

  constructor(
    private readonly bridge: HearthBridge,
    private readonly toasts: ToastStore,
  ) {}

  async refresh(): Promise<void> {
    const result = await this.bridge.call('apiTokens.list', {});
    if (result.ok) this.tokens = result.value;
    else this.toasts.error(result.error);
  }

  async create(input: CallInput<'apiTokens.create'>): Promise<boolean> {
    this.busy = true;
    try {
      const result = await this.bridge.call('apiTokens.create', input);
      if (!result.ok) {
        this.toasts.error(result.error);
        return false;
      }
      this.created = result.value;
      await this.refresh();
      return true;
    } finally {
      this.busy = false;
    }
  }

  async revoke(tokenId: string): Promise<void> {
    const result = await this.bridge.call('apiTokens.revoke', { tokenId });
    if (!result.ok) return this.toasts.error(result.error);
    if (this.created?.token.id === tokenId) this.created = null;
    await this.refresh();
  }

  /** Forgets the secret on screen: from here on it exists only where the user pasted it. */
  dismiss(): void {
    this.created = null;
  }
}
