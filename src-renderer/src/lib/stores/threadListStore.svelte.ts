import type { Thread, ThreadSummary } from '#contract/dto';
import type { HearthBridge } from '../api/client';
import type { ToastStore } from './toastStore.svelte';

/** The sidebar's list of chats, newest first as the core orders them. */
export class ThreadListStore {
  items = $state<ThreadSummary[]>([]);

  constructor(
    private readonly bridge: HearthBridge,
    private readonly toasts: ToastStore,
  ) {}

  async refresh(): Promise<void> {
    const result = await this.bridge.call('threads.list', {});
    if (result.ok) this.items = result.value;
    else this.toasts.error(result.error);
  }

  /** A new chat, or the empty one there is (clicking New chat twice gives one empty chat). */
  async create(): Promise<Thread | null> {
    const result = await this.bridge.call('threads.create', { reuseEmpty: true });
    if (!result.ok) {
      this.toasts.error(result.error);
      return null;
    }
    const { id, title, createdAt, updatedAt, messageCount } = result.value;
    const summary: ThreadSummary = { id, title, createdAt, updatedAt, messageCount };
    this.items = [summary, ...this.items.filter((t) => t.id !== summary.id)];
    return result.value;
  }

  async rename(threadId: string, title: string): Promise<Thread | null> {
    const trimmed = title.trim();
    if (!trimmed) return null;
    const result = await this.bridge.call('threads.update', { threadId, title: trimmed.slice(0, 200) });
    if (!result.ok) {
      this.toasts.error(result.error);
      return null;
    }
    this.patch(threadId, { title: result.value.title, updatedAt: result.value.updatedAt });
    return result.value;
  }

  async remove(threadId: string): Promise<boolean> {
    const result = await this.bridge.call('threads.delete', { threadId });
    if (!result.ok) {
      this.toasts.error(result.error);
      // It may be gone already (another window); the list should say so.
      await this.refresh();
      return false;
    }
    this.items = this.items.filter((t) => t.id !== threadId);
    return true;
  }

  patch(threadId: string, changes: Partial<ThreadSummary>): void {
    const item = this.items.find((t) => t.id === threadId);
    if (item) Object.assign(item, changes);
  }
}
