import type { CatalogEntry, HardwareInfo, JobInfo, ModelInfo, ModelPurpose } from '#contract/dto';
import type { ErrorData } from '#contract/errors';
import type { HearthBridge } from '../api/client';
import { memoryFit, propose, type Proposal } from '../util/firstRunPick';
import type { DiscoverStore } from './discoverStore.svelte';
import type { DownloadStore } from './downloadStore.svelte';
import type { RuntimeStore } from './runtimeStore.svelte';
import type { ToastStore } from './toastStore.svelte';

const DISMISSED_KEY = 'hearth.firstRun.dismissed';
const JOBS_KEY = 'hearth.firstRun.jobs';

/** A download the flow started: its job and the file it brings, to find the model afterwards. */
export interface FirstRunJob {
  jobId: string;
  file: string;
}

/** The purposes the flow fetches a model for. */
type FlowPurpose = Extract<ModelPurpose, 'chat' | 'embedding'>;
const FLOW_PURPOSES: readonly FlowPurpose[] = ['chat', 'embedding'];

type SavedJobs = Partial<Record<FlowPurpose, FirstRunJob>>;

/** What the flow offers for one purpose: the catalog entry and how it fits this machine's memory. */
export interface Offer {
  proposal: Proposal;
  fit: { label: string; fits: boolean };
}

function offer(catalog: CatalogEntry[], hardware: HardwareInfo, purpose: ModelPurpose): Offer | null {
  const proposal = propose(catalog, hardware, purpose);
  return proposal ? { proposal, fit: memoryFit(hardware, proposal.file.sizeBytes) } : null;
}

/** What the shell needs from the app: open a chat once a model is loaded. */
export interface FirstRunHost {
  newThread(): Promise<boolean>;
}

export function isNetworkError(error: ErrorData | null | undefined): boolean {
  return error?.code === 'NETWORK_ERROR';
}

function readJobs(): SavedJobs {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(JOBS_KEY) ?? '{}');
    return parsed && typeof parsed === 'object' ? (parsed as SavedJobs) : {};
  } catch {
    return {};
  }
}

/**
 * The first-run flow: shown while the library is empty (unless skipped, which is remembered in
 * this browser), it proposes one chat and one embedding model from the catalog that fit this
 * machine, downloads both, loads the chat model and opens a chat. The downloads it started are
 * remembered, so after a restart it picks them up again (the jobs themselves survive restarts).
 */
export class FirstRunStore {
  dismissed = $state(localStorage.getItem(DISMISSED_KEY) !== null);
  jobs = $state<SavedJobs>(readJobs());
  chat = $state<Offer | null>(null);
  embedding = $state<Offer | null>(null);
  /** Working out the proposal (hardware, catalog). */
  proposing = $state(false);
  /** The hub could not be reached: the flow says so and points at importing a file. */
  offline = $state(false);
  /** Pulls are being started, or the downloaded model is being loaded. */
  busy = $state(false);
  /** The chat model is being loaded and the chat opened. */
  finishing = $state(false);

  /** Shown while the library is empty, or while the flow's own downloads are under way. */
  get visible(): boolean {
    return !this.dismissed && (this.jobs.chat !== undefined || (this.runtime.modelsKnown && this.runtime.models.length === 0));
  }

  get chatJob(): JobInfo | null {
    return this.jobOf('chat');
  }

  get embeddingJob(): JobInfo | null {
    return this.jobOf('embedding');
  }

  constructor(
    private readonly bridge: HearthBridge,
    private readonly toasts: ToastStore,
    private readonly runtime: RuntimeStore,
    private readonly discover: DiscoverStore,
    private readonly downloads: DownloadStore,
    private readonly host: FirstRunHost,
  ) {}

  private jobOf(purpose: FlowPurpose): JobInfo | null {
    const saved = this.jobs[purpose];
    return saved ? (this.downloads.get(saved.jobId) ?? null) : null;
  }

  /** Works out what to propose from the catalog and this machine's memory (no network). */
  async propose(): Promise<void> {
    if (this.proposing) return;
    this.proposing = true;
    try {
      if (this.discover.hardware?.status !== 'ok') await this.discover.loadHardware();
      if (this.discover.catalog?.status !== 'ok') await this.discover.loadCatalog();
      const hardware = this.discover.hardware;
      const catalog = this.discover.catalog;
      if (hardware?.status !== 'ok' || catalog?.status !== 'ok') return;
      this.chat = offer(catalog.value, hardware.value, 'chat');
      this.embedding = offer(catalog.value, hardware.value, 'embedding');
    } finally {
      this.proposing = false;
    }
  }

  /** Starts both downloads; their progress follows in the flow. */
  async download(): Promise<void> {
    if (this.busy || !this.chat) return;
    this.busy = true;
    this.offline = false;
    try {
      const saved: SavedJobs = { ...this.jobs };
      for (const purpose of FLOW_PURPOSES) {
        const offer = this[purpose];
        if (!offer || (saved[purpose] && this.jobOf(purpose)?.status !== 'failed' && this.jobOf(purpose)?.status !== 'cancelled')) continue;
        const { entry, file } = offer.proposal;
        const result = await this.bridge.call('models.pull', { source: { kind: 'catalog', id: entry.id, quantization: file.quantization } });
        if (!result.ok) {
          // Out of reach: the flow's own notice says so and offers the import path instead.
          if (isNetworkError(result.error)) this.offline = true;
          else this.toasts.error(result.error);
          break;
        }
        this.downloads.handleUpdate(result.value);
        saved[purpose] = { jobId: result.value.id, file: file.file };
        this.save(saved);
      }
    } finally {
      this.busy = false;
    }
  }

  /** A download pulled by URL (the import path's link): followed as the chat model. */
  async pullUrl(url: string): Promise<boolean> {
    const result = await this.bridge.call('models.pull', { source: { kind: 'url', url } });
    if (!result.ok) {
      this.toasts.error(result.error);
      return false;
    }
    this.downloads.handleUpdate(result.value);
    const name = decodeURIComponent(url.split(/[?#]/)[0]?.split('/').pop() ?? '');
    this.save({ ...this.jobs, chat: { jobId: result.value.id, file: name } });
    return true;
  }

  /** Imports a GGUF by its full path (or the desktop's file picker), then loads it and opens a chat. */
  async importPath(path: string): Promise<boolean> {
    const trimmed = path.trim();
    if (!trimmed || this.busy) return false;
    this.busy = true;
    try {
      const result = await this.bridge.call('models.import', { path: trimmed, copy: false });
      if (!result.ok) {
        this.toasts.error(result.error);
        return false;
      }
      await this.runtime.refreshModels();
    } finally {
      this.busy = false;
    }
    await this.finish(null);
    return true;
  }

  /** The page loaded or reconnected: a download that ended meanwhile is taken up here. */
  resume(): void {
    for (const purpose of FLOW_PURPOSES) {
      const job = this.jobOf(purpose);
      if (job?.status === 'completed') void this.completed(job);
    }
  }

  /** A download finished: the embedding model becomes the default; the chat model is loaded. */
  async completed(job: JobInfo): Promise<void> {
    const { chat, embedding } = this.jobs;
    if (embedding?.jobId === job.id) {
      await this.runtime.refreshModels();
      const model = this.modelFor(embedding.file);
      if (model) await this.setDefault(model, 'embedding');
      const { embedding: _done, ...rest } = this.jobs;
      this.save(rest);
    } else if (chat?.jobId === job.id && !this.finishing) {
      await this.runtime.refreshModels();
      await this.finish(chat.file);
    }
  }

  /** Makes the chat model the default, loads it, opens a chat and puts the flow away. */
  private async finish(file: string | null): Promise<void> {
    this.finishing = true;
    try {
      const model = (file ? this.modelFor(file) : null) ?? this.runtime.models.find((m) => m.defaultFor.includes('chat')) ?? this.runtime.models.find((m) => m.present);
      if (!model) return;
      if (!model.defaultFor.includes('chat')) await this.setDefault(model, 'chat');
      await this.runtime.load(model.id);
      if (this.runtime.loaded?.modelId !== model.id) return;
      await this.host.newThread();
      const { chat: _done, ...rest } = this.jobs;
      this.save(rest);
      this.dismiss();
    } finally {
      this.finishing = false;
    }
  }

  /** "Skip for now": the flow does not come back in this browser. */
  dismiss(): void {
    this.dismissed = true;
    localStorage.setItem(DISMISSED_KEY, String(Date.now()));
  }

  private modelFor(file: string): ModelInfo | null {
    const stem = file.replace(/\.gguf$/i, '');
    const base = (m: ModelInfo) => m.path.split(/[\\/]/).pop() ?? '';
    return this.runtime.models.find((m) => base(m) === file) ?? this.runtime.models.find((m) => base(m).startsWith(stem)) ?? null;
  }

  private async setDefault(model: ModelInfo, purpose: ModelPurpose): Promise<void> {
    const result = await this.bridge.call('models.setDefault', { modelId: model.id, purpose });
    if (!result.ok) this.toasts.error(result.error);
    await this.runtime.refreshModels();
  }

  private save(jobs: SavedJobs): void {
    this.jobs = jobs;
    if (Object.keys(jobs).length === 0) localStorage.removeItem(JOBS_KEY);
    else localStorage.setItem(JOBS_KEY, JSON.stringify(jobs));
  }
}
