import type { SearchHit } from '#contract/dto';
import type { HearthBridge } from '../api/client';
import type { ToastStore } from './toastStore.svelte';

const LIMIT = 10;

/** The Documents screen's quick search over one collection. */
export class DocumentSearchStore {
  query = $state('');
  hits = $state<SearchHit[]>([]);
  searching = $state(false);
  /** The query the hits answer, once a search has run. */
  searchedFor = $state<string | null>(null);

  private token = 0;

  constructor(
    private readonly bridge: HearthBridge,
    private readonly toasts: ToastStore,
  ) {}

  async run(collectionId: string): Promise<void> {
    const query = this.query.trim();
    if (!query) return;
    const token = ++this.token;
    this.searching = true;
    try {
      const result = await this.bridge.call('search.query', { query, collectionIds: [collectionId], limit: LIMIT });
      if (token !== this.token) return;
      if (!result.ok) {
        this.toasts.error(result.error);
        return;
      }
      this.hits = result.value;
      this.searchedFor = query;
    } finally {
      if (token === this.token) this.searching = false;
    }
  }

  clear(): void {
    this.token++;
    this.query = '';
    this.hits = [];
    this.searching = false;
    this.searchedFor = null;
  }
}
