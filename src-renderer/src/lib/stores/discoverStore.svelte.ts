import type {
  CatalogEntry,
  FitResult,
  HardwareInfo,
  HubFile,
  HubModelSummary,
  JobInfo,
  ModelSource,
} from '#contract/dto';
import type { ErrorData } from '#contract/errors';
import type { HearthBridge } from '../api/client';
import { isNetworkError } from './firstRunStore.svelte';
import type { ToastStore } from './toastStore.svelte';

/** An error as calls return it: a contract code and a sentence. */
export type UiError = ErrorData;

/** A fit badge's state: asked, answered, or the core could not tell. */
export type FitState = { status: 'loading' } | { status: 'ok'; fit: FitResult } | { status: 'error'; error: UiError };

export type Loadable<T> = { status: 'loading' } | { status: 'ok'; value: T } | { status: 'error'; error: UiError };

/** Fit checks read GGUF headers (over the network for hub files): a few at a time. */
const FIT_CONCURRENCY = 3;

/** What a fit can be asked about: a file to download, or a model already here. */
export type FitSource = ModelSource | { kind: 'local'; modelId: string };

/** A stable key for a download source, to find its fit and its job again. */
export function sourceKey(source: FitSource): string {
  switch (source.kind) {
    case 'local':
      return `local:${source.modelId}`;
    case 'catalog':
      return `catalog:${source.id}:${source.quantization ?? ''}`;
    case 'hub':
      return `hub:${source.repo}:${source.revision ?? ''}:${source.file}`;
    case 'url':
      return `url:${source.url}`;
  }
}

/**
 * The Discover tab: this machine's hardware, the curated catalog, Hugging Face search and
 * a repository's files, each file's hardware fit, and starting downloads.
 */
export class DiscoverStore {
  hardware = $state<Loadable<HardwareInfo> | null>(null);
  catalog = $state<Loadable<CatalogEntry[]> | null>(null);

  /** The query the results answer (not the one being typed). */
  searchedQuery = $state<string | null>(null);
  searching = $state(false);
  results = $state<HubModelSummary[] | null>(null);
  searchError = $state<UiError | null>(null);

  /** The search result whose files are shown. */
  openRepo = $state<string | null>(null);
  files = $state<Record<string, Loadable<HubFile[]>>>({});
  fits = $state<Record<string, FitState>>({});

  /** A gated repository needs a token: where it came up and what the hub said. */
  gate = $state<{ repo: string | null; message: string } | null>(null);
  savingToken = $state(false);

  /** Source key → the download job it started, to show its state beside the Download button. */
  jobIds = $state<Record<string, string>>({});
  /** Source keys whose models.pull call is in flight. */
  starting = $state<Record<string, boolean>>({});

  /**
   * The hub could not be reached (a fit or a download of a hub file failed with NETWORK_ERROR,
   * as the first-run flow decides it): the tab says so once and downloads are off.
   */
  offline = $state(false);
  /** Asking the hub again after "Check again". */
  rechecking = $state(false);

  /** Each fit asked about, by key: to ask again once the hub answers. */
  private readonly fitSources: Record<string, FitSource> = {};
  private readonly fitQueue: Array<() => Promise<void>> = [];
  private fitsRunning = 0;

  constructor(
    private readonly bridge: HearthBridge,
    private readonly toasts: ToastStore,
    /** A download started: the Downloads list should know at once. */
    private readonly onJobStarted: (job: JobInfo) => void,
  ) {}

  /** Loads what the tab shows first; what failed before is asked again. */
  ensureLoaded(): void {
    if (this.hardware === null || this.hardware.status === 'error') void this.loadHardware();
    if (this.catalog === null || this.catalog.status === 'error') void this.loadCatalog();
  }

  async loadHardware(): Promise<void> {
    this.hardware = { status: 'loading' };
    const result = await this.bridge.call('hardware.info', {});
    this.hardware = result.ok ? { status: 'ok', value: result.value } : { status: 'error', error: result.error };
  }

  async loadCatalog(): Promise<void> {
    this.catalog = { status: 'loading' };
    const result = await this.bridge.call('catalog.list', {});
    this.catalog = result.ok ? { status: 'ok', value: result.value } : { status: 'error', error: result.error };
  }

  async search(query: string): Promise<void> {
    const trimmed = query.trim().slice(0, 200);
    this.searching = true;
    this.searchError = null;
    try {
      const result = await this.bridge.call('hub.search', { query: trimmed, limit: 30 });
      this.searchedQuery = trimmed;
      if (result.ok) {
        this.results = result.value;
        // One match is the one the user wants: show its files straight away.
        if (result.value.length === 1 && result.value[0]) void this.openFiles(result.value[0].repo);
      } else {
        this.results = null;
        this.searchError = result.error;
      }
    } finally {
      this.searching = false;
    }
  }

  /** Shows (or hides, when already shown) a repository's files. */
  toggleRepo(repo: string): void {
    if (this.openRepo === repo) {
      this.openRepo = null;
      return;
    }
    void this.openFiles(repo);
  }

  async openFiles(repo: string, reload = false): Promise<void> {
    this.openRepo = repo;
    const known = this.files[repo];
    if (known && known.status !== 'error' && !reload) return;
    this.files[repo] = { status: 'loading' };
    const result = await this.bridge.call('hub.files', { repo });
    if (result.ok) {
      this.files[repo] = { status: 'ok', value: result.value };
      if (this.gate?.repo === repo) this.gate = null;
      // The user is looking at these now: ahead of catalog cards still waiting.
      for (const file of [...result.value].reverse()) this.requestFit({ kind: 'hub', repo, file: file.file }, true);
    } else {
      this.files[repo] = { status: 'error', error: result.error };
      if (isGated(result.error)) this.gate = { repo, message: result.error.message };
    }
  }

  /** Asks for a source's fit once; the answer lands in `fits`. Urgent ones jump the queue. */
  requestFit(source: FitSource, urgent = false): void {
    const key = sourceKey(source);
    const known = this.fits[key];
    if (known && known.status !== 'error') return;
    this.fits[key] = { status: 'loading' };
    this.fitSources[key] = source;
    const task = async () => {
      const result = await this.bridge.call('models.fit', { source });
      this.fits[key] = result.ok ? { status: 'ok', fit: result.value } : { status: 'error', error: result.error };
      if (!result.ok) this.noteUnreachable(source, result.error);
    };
    if (urgent) this.fitQueue.unshift(task);
    else this.fitQueue.push(task);
    this.pumpFits();
  }

  fitOf(source: FitSource): FitState | null {
    return this.fits[sourceKey(source)] ?? null;
  }

  /** Asks again, e.g. after a model's GPU layers changed. */
  refit(source: FitSource): void {
    delete this.fits[sourceKey(source)];
    this.requestFit(source, true);
  }

  /** Starts a download; returns its job, or null after showing why not. */
  async pull(source: ModelSource): Promise<JobInfo | null> {
    const key = sourceKey(source);
    if (this.starting[key]) return null;
    this.starting[key] = true;
    try {
      const result = await this.bridge.call('models.pull', { source });
      if (!result.ok) {
        if (this.noteUnreachable(source, result.error)) return null;
        if (isGated(result.error)) this.gate = { repo: source.kind === 'hub' ? source.repo : null, message: result.error.message };
        this.toasts.error(result.error, () => this.pull(source));
        return null;
      }
      this.jobIds[key] = result.value.id;
      this.onJobStarted(result.value);
      this.toasts.info(`${result.value.title}: started. Follow it under Downloads.`);
      return result.value;
    } finally {
      delete this.starting[key];
    }
  }

  /** A hub file out of reach: the tab goes offline. Says whether it did. */
  private noteUnreachable(source: FitSource, error: UiError): boolean {
    if (source.kind === 'local' || source.kind === 'url' || !isNetworkError(error)) return false;
    this.offline = true;
    return true;
  }

  /**
   * "Check again": asks one of the fits that failed for want of the hub again; when it answers,
   * the tab is back online and every such fit is asked again.
   */
  async recheck(): Promise<void> {
    if (this.rechecking) return;
    const unreachable = Object.entries(this.fits).flatMap(([key, fit]) => {
      const source = this.fitSources[key];
      return fit.status === 'error' && isNetworkError(fit.error) && source ? [{ key, source }] : [];
    });
    this.rechecking = true;
    try {
      const probe = unreachable[0];
      if (probe) {
        const result = await this.bridge.call('models.fit', { source: probe.source });
        if (!result.ok && isNetworkError(result.error)) return;
      }
      this.offline = false;
      for (const { key, source } of unreachable) {
        delete this.fits[key];
        this.requestFit(source);
      }
    } finally {
      this.rechecking = false;
    }
  }

  /** Saves (or with null, forgets) the Hugging Face token, then retries what needed it. */
  async saveToken(token: string | null): Promise<boolean> {
    this.savingToken = true;
    try {
      const result = await this.bridge.call('hub.setToken', { token });
      if (!result.ok) {
        this.toasts.error(result.error);
        return false;
      }
      this.toasts.info(token ? 'Hugging Face token saved.' : 'Hugging Face token removed.');
      const repo = this.gate?.repo ?? null;
      this.gate = null;
      // Fits that failed for want of a token may work now.
      for (const [key, fit] of Object.entries(this.fits)) {
        if (fit.status === 'error' && needsToken(fit.error)) delete this.fits[key];
      }
      if (repo && this.openRepo === repo) await this.openFiles(repo, true);
      return true;
    } finally {
      this.savingToken = false;
    }
  }

  /** The hub endpoint changed: what came from the old one no longer holds. */
  forgetHub(): void {
    this.results = null;
    this.searchedQuery = null;
    this.searchError = null;
    this.openRepo = null;
    this.files = {};
    this.gate = null;
    for (const key of Object.keys(this.fits)) if (!key.startsWith('catalog:')) delete this.fits[key];
    // The new endpoint may answer where the old one did not.
    if (this.offline) void this.recheck();
  }

  private pumpFits(): void {
    while (this.fitsRunning < FIT_CONCURRENCY) {
      const task = this.fitQueue.shift();
      if (!task) return;
      this.fitsRunning += 1;
      void task().finally(() => {
        this.fitsRunning -= 1;
        this.pumpFits();
      });
    }
  }
}

export function isGated(error: UiError): boolean {
  return error.code === 'MODEL_GATED';
}

function needsToken(error: UiError): boolean {
  return error.code === 'MODEL_GATED' || error.code === 'UNAUTHORIZED';
}

/**
 * The quantization to suggest for this machine: the largest that fits on the GPU, else the
 * one with the most layers on the GPU (larger on a tie), else the smallest that runs on the
 * CPU. Undecided (null) while any fit is still being worked out, so it does not jump about.
 */
export function recommend<K>(candidates: Array<{ key: K; sizeBytes: number | null; fit: FitState | null }>): K | null {
  if (candidates.some((c) => c.fit === null || c.fit.status === 'loading')) return null;
  const known = candidates.flatMap((c) => (c.fit?.status === 'ok' ? [{ key: c.key, size: c.sizeBytes ?? 0, fit: c.fit.fit }] : []));
  const gpu = known.filter((c) => c.fit.verdict === 'gpu').sort((a, b) => b.size - a.size);
  if (gpu[0]) return gpu[0].key;
  const share = (fit: FitResult) => (fit.totalLayers > 0 ? fit.gpuLayers / fit.totalLayers : 0);
  const partial = known
    .filter((c) => c.fit.verdict === 'partial')
    .sort((a, b) => share(b.fit) - share(a.fit) || b.size - a.size);
  if (partial[0]) return partial[0].key;
  const cpu = known.filter((c) => c.fit.verdict === 'cpu').sort((a, b) => a.size - b.size);
  return cpu[0]?.key ?? null;
}
