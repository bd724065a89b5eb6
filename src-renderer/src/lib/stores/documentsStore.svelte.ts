import type {
  Collection,
  DocumentCounts,
  DocumentInfo,
  DocumentStatus,
  IndexStatus,
  JobInfo,
  JobStatus,
  Source,
} from '#contract/dto';
import type { CallName } from '#contract/api';
import { JOB_KIND, type SourceKind } from '#contract/vocabulary';
import type { HearthBridge } from '../api/client';
import { DocumentSearchStore } from './documentSearchStore.svelte';
import type { ToastStore } from './toastStore.svelte';

/** library.changed comes in bursts while indexing: refetch at most this often. */
const REFRESH_MS = 400;
/** Statuses in which the job is still the one the progress bar shows. */
const LIVE: readonly JobStatus[] = ['queued', 'running', 'paused', 'interrupted'];

export type StatusFilter = DocumentStatus | 'all';

function emptyCounts(): DocumentCounts {
  return { pending: 0, indexed: 0, skipped: 0, failed: 0 };
}

/**
 * "Your documents": collections, the selected collection's sources and files, and the one
 * indexing job. Kept fresh by library.changed (throttled) and jobs.update events.
 */
export class DocumentsStore {
  collections = $state<Collection[]>([]);
  selectedId = $state<string | null>(null);
  sources = $state<Source[]>([]);
  documents = $state<DocumentInfo[]>([]);
  filter = $state<StatusFilter>('all');
  status = $state<IndexStatus | null>(null);
  /** The indexing job the progress bar shows: running, queued, paused or interrupted. */
  job = $state<JobInfo | null>(null);
  /** The last indexing job that failed, until another one starts. */
  failure = $state<JobInfo | null>(null);
  /** A job just ended and the index status that follows it has not arrived yet. */
  settling = $state(false);
  /** The selected collection's details have been fetched at least once. */
  loaded = $state(false);
  /** Keys of calls in flight ('create', 'add', 'rescan', a collection, source or job id). */
  pending = $state<Record<string, boolean>>({});

  readonly search: DocumentSearchStore;

  readonly selected: Collection | null = $derived(this.collections.find((c) => c.id === this.selectedId) ?? null);
  /** Files per status in the selected collection, for the filter. */
  readonly counts: DocumentCounts = $derived.by(() => {
    const counts = emptyCounts();
    for (const doc of this.documents) counts[doc.status]++;
    return counts;
  });
  readonly visibleDocuments: DocumentInfo[] = $derived(
    this.filter === 'all' ? this.documents : this.documents.filter((d) => d.status === this.filter),
  );

  /** Set while the Documents screen is shown: only then are the collection's files refetched. */
  private visible = false;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private detailsToken = 0;
  /** Counts jobs.update events, so a slower index.status answer never overrides a newer event. */
  private jobEvents = 0;

  constructor(
    private readonly bridge: HearthBridge,
    private readonly toasts: ToastStore,
  ) {
    this.search = new DocumentSearchStore(bridge, toasts);
  }

  /** The Documents screen opened (or closed); opening refetches what it shows. */
  setVisible(visible: boolean): void {
    const opened = visible && !this.visible;
    this.visible = visible;
    if (opened) void this.refresh();
  }

  /** Selects a collection (null: none); an unknown id selects the first one once listed. */
  async select(collectionId: string | null): Promise<void> {
    if (collectionId === this.selectedId && this.loaded) return;
    this.selectedId = collectionId;
    this.sources = [];
    this.documents = [];
    this.filter = 'all';
    this.loaded = false;
    this.search.clear();
    if (this.visible) await this.refreshDetails();
  }

  /** Collections and the index status; the selected collection's files too while the screen shows. */
  async refresh(): Promise<void> {
    await Promise.all([this.refreshCollections(), this.refreshStatus(), this.visible ? this.refreshDetails() : undefined]);
  }

  async refreshCollections(): Promise<void> {
    const result = await this.bridge.call('collections.list', {});
    if (!result.ok) {
      this.toasts.error(result.error);
      return;
    }
    this.collections = result.value;
    // The selected collection, or the first one when none is (or it was deleted).
    const keep = this.collections.some((c) => c.id === this.selectedId);
    const wanted = keep ? this.selectedId : (this.collections[0]?.id ?? null);
    if (wanted !== this.selectedId) await this.select(wanted);
  }

  async refreshStatus(): Promise<void> {
    const mark = this.jobEvents;
    const result = await this.bridge.call('index.status', {});
    if (!result.ok) {
      this.toasts.error(result.error);
      return;
    }
    this.status = result.value;
    if (this.jobEvents === mark) {
      this.job = result.value.job;
      this.settling = false;
    }
  }

  /** The selected collection's sources and files. */
  async refreshDetails(): Promise<void> {
    const collectionId = this.selectedId;
    const token = ++this.detailsToken;
    if (!collectionId) {
      this.loaded = true;
      return;
    }
    const [sources, documents] = await Promise.all([
      this.bridge.call('sources.list', { collectionId }),
      this.bridge.call('documents.list', { collectionId }),
    ]);
    if (token !== this.detailsToken) return;
    if (!sources.ok || !documents.ok) {
      const error = !sources.ok ? sources.error : !documents.ok ? documents.error : null;
      if (error && error.code !== 'COLLECTION_NOT_FOUND') this.toasts.error(error);
      return;
    }
    this.sources = sources.value;
    this.documents = documents.value;
    this.loaded = true;
  }

  /** library.changed: refetch soon, once per burst. */
  handleLibraryChanged(): void {
    this.refreshSoon();
  }

  handleJob(job: JobInfo): void {
    if (job.kind !== JOB_KIND.libraryIndex) return;
    const current = this.job;
    if (current?.id === job.id && current.updatedAt > job.updatedAt) return;
    this.jobEvents++;
    if (LIVE.includes(job.status)) {
      this.job = job;
      this.failure = null;
      return;
    }
    if (!current || current.id === job.id) this.job = null;
    if (job.status === 'failed') {
      this.failure = job;
      if (job.error) this.toasts.error(job.error);
    }
    // Done, failed or cancelled: statuses and counts moved; fetch them now.
    this.settling = true;
    this.clearRefreshTimer();
    void this.refresh();
  }

  async createCollection(name: string): Promise<Collection | null> {
    const clean = name.trim();
    if (!clean) return null;
    const created = await this.withPending('create', async () => {
      const result = await this.bridge.call('collections.create', { name: clean });
      if (!result.ok) {
        this.toasts.error(result.error);
        return null;
      }
      this.collections = [...this.collections.filter((c) => c.id !== result.value.id), result.value];
      return result.value;
    });
    return created ?? null;
  }

  async renameCollection(collectionId: string, name: string): Promise<void> {
    const clean = name.trim();
    if (!clean) return;
    await this.withPending(collectionId, async () => {
      const result = await this.bridge.call('collections.rename', { collectionId, name: clean });
      if (!result.ok) {
        this.toasts.error(result.error);
        return;
      }
      const index = this.collections.findIndex((c) => c.id === collectionId);
      if (index >= 0) this.collections[index] = result.value;
    });
  }

  /** Removes the collection from Hearth (its files stay on disk); returns whether it did. */
  async deleteCollection(collectionId: string): Promise<boolean> {
    const deleted = await this.withPending(collectionId, async () => {
      const result = await this.bridge.call('collections.delete', { collectionId });
      if (!result.ok) {
        this.toasts.error(result.error);
        return false;
      }
      this.collections = this.collections.filter((c) => c.id !== collectionId);
      if (this.selectedId === collectionId) await this.select(this.collections[0]?.id ?? null);
      return true;
    });
    if (deleted) void this.refreshStatus();
    return deleted === true;
  }

  /** Adds a folder or file by path to the selected collection and starts indexing it. */
  async addSource(path: string): Promise<boolean> {
    const collectionId = this.selectedId;
    const clean = path.trim();
    if (!collectionId || !clean) return false;
    const added = await this.withPending('add', async () => {
      const result = await this.bridge.call('sources.add', { collectionId, path: clean });
      if (!result.ok) {
        this.toasts.error(result.error);
        return false;
      }
      if (result.value.job) this.handleJob(result.value.job);
      return true;
    });
    if (added) await this.refresh();
    return added === true;
  }

  /** Desktop only: the system picker, then adds what was chosen. */
  async pickAndAdd(kind: SourceKind): Promise<void> {
    const picked = await this.bridge.call('sources.pick', { kind });
    if (!picked.ok) this.toasts.error(picked.error);
    else if (picked.value) await this.addSource(picked.value);
  }

  async removeSource(sourceId: string): Promise<void> {
    const removed = await this.withPending(sourceId, async () => {
      const result = await this.bridge.call('sources.remove', { sourceId });
      if (!result.ok) this.toasts.error(result.error);
      return result.ok;
    });
    if (removed) await this.refresh();
  }

  /** Looks for changes on disk in one source, or in every source of the selected collection. */
  async rescan(sourceId?: string): Promise<void> {
    const ids = sourceId ? [sourceId] : this.sources.map((s) => s.id);
    if (ids.length === 0) return;
    await this.withPending(sourceId ?? 'rescan', async () => {
      let started = false;
      for (const id of ids) {
        const result = await this.bridge.call('index.rescan', { sourceId: id });
        if (!result.ok) {
          this.toasts.error(result.error);
          return;
        }
        if (result.value) {
          started = true;
          this.handleJob(result.value);
        }
      }
      if (!started) this.toasts.info('Nothing changed on disk: the index is up to date.');
    });
  }

  /** After index/ was lost (blocker INDEX_MISSING): a job that embeds every document again. */
  async rebuildIndex(): Promise<void> {
    await this.withPending('rebuild', async () => {
      const result = await this.bridge.call('index.rebuild', {});
      if (!result.ok) {
        this.toasts.error(result.error);
        return;
      }
      this.handleJob(result.value);
      await this.refreshStatus();
    });
  }

  pauseJob(): Promise<void> {
    return this.actOnJob('jobs.pause');
  }

  resumeJob(): Promise<void> {
    return this.actOnJob('jobs.resume');
  }

  cancelJob(): Promise<void> {
    return this.actOnJob('jobs.cancel');
  }

  sourceOf(doc: DocumentInfo): Source | undefined {
    return this.sources.find((s) => s.id === doc.sourceId);
  }

  private async actOnJob(name: Extract<CallName, 'jobs.pause' | 'jobs.resume' | 'jobs.cancel'>): Promise<void> {
    const job = this.job;
    if (!job || this.pending[job.id]) return;
    await this.withPending(job.id, async () => {
      const result = await this.bridge.call(name, { jobId: job.id });
      if (!result.ok) {
        this.toasts.error(result.error);
        await this.refreshStatus();
      }
    });
  }

  private refreshSoon(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      void this.refresh();
    }, REFRESH_MS);
  }

  private clearRefreshTimer(): void {
    if (!this.refreshTimer) return;
    clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
  }

  private async withPending<T>(key: string, work: () => Promise<T>): Promise<T | undefined> {
    if (this.pending[key]) return undefined;
    this.pending[key] = true;
    try {
      return await work();
    } finally {
      delete this.pending[key];
    }
  }
}
