import type { ChatSearchHit } from '#contract/dto';
import type { HearthBridge } from '../api/client';
import type { ToastStore } from './toastStore.svelte';

/** How long typing pauses before a search runs. */
const DEBOUNCE_MS = 150;

/** Search across every chat, from the sidebar's box: the latest query's hits, best first. */
export class ChatSearchStore {
  query = $state('');
  hits = $state<ChatSearchHit[]>([]);
  searching = $state(false);
  /** The query the hits answer (they may lag the box while a search runs). */
  answered = $state('');
  /** Counts requests to focus the box (the search shortcut); the box focuses when it changes. */
  focusRequests = $state(0);

  private timer: ReturnType<typeof setTimeout> | null = null;
  private ticket = 0;

  constructor(
    private readonly bridge: HearthBridge,
    private readonly toasts: ToastStore,
  ) {}

  get active(): boolean {
    return this.query.trim().length > 0;
  }

  requestFocus(): void {
    this.focusRequests++;
  }

  /** The box changed: search once typing pauses. */
  setQuery(query: string): void {
    this.query = query;
    if (this.timer) clearTimeout(this.timer);
    if (!query.trim()) {
      this.ticket++;
      this.hits = [];
      this.answered = '';
      this.searching = false;
      return;
    }
    this.searching = true;
    this.timer = setTimeout(() => void this.run(query.trim()), DEBOUNCE_MS);
  }

  clear(): void {
    this.setQuery('');
  }

  /** Runs the search again (a chat changed while hits were shown). */
  refresh(): void {
    if (this.active) void this.run(this.query.trim());
  }

  private async run(query: string): Promise<void> {
    const ticket = ++this.ticket;
    const result = await this.bridge.call('threads.search', { query: query.slice(0, 500), limit: 50 });
    if (ticket !== this.ticket) return;
    this.searching = false;
    this.answered = query;
    if (result.ok) this.hits = result.value;
    else this.toasts.error(result.error);
  }
}
