import type { HearthBridge } from '../api/client';
import type { Passage } from '../util/passage';
import type { ToastStore } from './toastStore.svelte';

/** The passage panel: what a citation or a search hit points at, and opening its file. */
export class PassageStore {
  current = $state<Passage | null>(null);
  opening = $state(false);

  constructor(
    private readonly bridge: HearthBridge,
    private readonly toasts: ToastStore,
  ) {}

  open(passage: Passage): void {
    this.current = passage;
  }

  close(): void {
    this.current = null;
  }

  /** Desktop only: the system viewer, at the passage's page where it has one. */
  async openFile(passage: Passage): Promise<void> {
    if (this.opening) return;
    this.opening = true;
    try {
      const page = passage.location.pageStart ?? undefined;
      const result = await this.bridge.call('documents.open', { docId: passage.docId, ...(page !== undefined ? { page } : {}) });
      if (!result.ok) this.toasts.error(result.error);
    } finally {
      this.opening = false;
    }
  }
}
