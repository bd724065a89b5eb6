import type { AppInfo, JobInfo } from '#contract/dto';
import type { AppHost } from '#contract/vocabulary';
import { MAX_MESSAGE_CHARS } from '#contract/limits';
import type { ConnectionState, HearthClient } from '../api/client';
import { createMarkdownRenderer, type MarkdownRenderer } from '../util/markdown';
import { ChatSearchStore } from './chatSearchStore.svelte';
import { ChatStore } from './chatStore.svelte';
import { ChatTransferStore } from './chatTransferStore.svelte';
import { DiscoverStore } from './discoverStore.svelte';
import { DocumentsStore } from './documentsStore.svelte';
import { DownloadStore } from './downloadStore.svelte';
import { FirstRunStore } from './firstRunStore.svelte';
import { LibraryStore } from './libraryStore.svelte';
import { NetworkLedgerStore } from './networkLedgerStore.svelte';
import { ApiTokensStore } from './apiTokensStore.svelte';
import { PassageStore } from './passageStore.svelte';
import { RuntimeStore } from './runtimeStore.svelte';
import { SettingsStore } from './settingsStore.svelte';
import { ThreadListStore } from './threadListStore.svelte';
import { ToastStore } from './toastStore.svelte';
import { VaultStore } from './vaultStore.svelte';

const ROUTE = /^#\/thread\/([^/?#]+)$/;
const MODELS_ROUTE = /^#\/models(?:\/(discover|downloads|local))?\/?$/;
const DOCUMENTS_ROUTE = /^#\/documents(?:\/([^/?#]+))?\/?$/;
const BACKUP_ROUTE = /^#\/backup\/?$/;
export const BACKUP_HREF = '#/backup';
const SETTINGS_ROUTE = /^#\/settings\/?$/;
export const SETTINGS_HREF = '#/settings';

export type View = 'chat' | 'models' | 'documents' | 'backup' | 'settings';
export type ModelsTab = 'discover' | 'downloads' | 'local';

/**
 * The renderer's composition root: builds the stores around one client, wires the core's
 * events to them and keeps the place in the URL hash so a reload returns there: the open
 * thread (#/thread/<id>), the Models screen and its tab (#/models, #/models/downloads,
 * #/models/local), the Documents screen and its collection (#/documents/<id>) or the
 * Backup screen (#/backup).
 */
export class HearthApp {
  readonly toasts = new ToastStore();
  readonly runtime: RuntimeStore;
  readonly threads: ThreadListStore;
  readonly chat: ChatStore;
  readonly search: ChatSearchStore;
  readonly transfer: ChatTransferStore;
  readonly discover: DiscoverStore;
  readonly downloads: DownloadStore;
  readonly library: LibraryStore;
  readonly settings: SettingsStore;
  readonly documents: DocumentsStore;
  readonly passages: PassageStore;
  readonly vault: VaultStore;
  readonly network: NetworkLedgerStore;
  readonly apiTokens: ApiTokensStore;
  readonly firstRun: FirstRunStore;
  readonly markdown: MarkdownRenderer = createMarkdownRenderer();

  info = $state<AppInfo | null>(null);
  view = $state<View>('chat');
  modelsTab = $state<ModelsTab>('discover');
  connection = $state<ConnectionState>('connecting');
  /** While switching data folders: waiting for the old connection to close, then for the new one. */
  switching = $state<'closing' | 'reopening' | null>(null);
  /** Ticks every 30 s so relative times stay true. */
  now = $state(Date.now());
  readonly maxMessageChars = $derived(this.info?.limits.maxMessageChars ?? MAX_MESSAGE_CHARS); // the contract's limit, until app.info answers

  private readonly disposers: Array<() => void> = [];
  private wasOpen = false;
  /** Threads this window is deleting: their change event is our own doing, not news. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, not UI state: nothing renders from it
  private readonly deleting = new Set<string>();
  private listRefresh: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly client: HearthClient) {
    const { bridge } = client;
    this.runtime = new RuntimeStore(bridge, this.toasts);
    this.threads = new ThreadListStore(bridge, this.toasts);
    this.chat = new ChatStore(bridge, this.toasts, () => this.refreshThreadsSoon());
    this.search = new ChatSearchStore(bridge, this.toasts);
    this.transfer = new ChatTransferStore(bridge, this.toasts, () => this.info?.host !== 'desktop');
    this.downloads = new DownloadStore(bridge, this.toasts, (job) => this.onDownloaded(job));
    this.discover = new DiscoverStore(bridge, this.toasts, (job) => this.downloads.handleUpdate(job));
    this.library = new LibraryStore(bridge, this.toasts, this.runtime);
    this.settings = new SettingsStore(bridge, this.toasts);
    this.documents = new DocumentsStore(bridge, this.toasts);
    this.passages = new PassageStore(bridge, this.toasts);
    this.vault = new VaultStore(bridge, this.toasts);
    this.network = new NetworkLedgerStore(bridge, this.toasts);
    this.apiTokens = new ApiTokensStore(bridge, this.toasts);
    this.firstRun = new FirstRunStore(bridge, this.toasts, this.runtime, this.discover, this.downloads, { newThread: () => this.newThread() });
  }

  /** True where an Electron shell hosts the UI (it can pick files and open them). */
  get desktop(): boolean {
    return this.info?.host === 'desktop';
  }

  /**
   * Who hosts this page, for what messages may say: the desktop app (over IPC) or `hearth serve`.
   * Known before app.info answers, so a page that cannot reach its server still says the right thing.
   */
  get host(): AppHost {
    return this.client.transport === 'ipc' || this.desktop ? 'desktop' : 'server';
  }

  documentsHref(collectionId: string | null = this.documents.selectedId): string {
    return collectionId ? `#/documents/${encodeURIComponent(collectionId)}` : '#/documents';
  }

  /** Opens the Documents screen, on a collection where given, and records it in the address bar. */
  async showDocuments(collectionId: string | null = this.documents.selectedId): Promise<void> {
    const hash = this.documentsHref(collectionId);
    if (location.hash !== hash) history.pushState(null, '', hash);
    await this.applyRoute();
  }

  /** Where the chat view's link goes: the open thread, if any. */
  get chatHref(): string {
    return this.chat.threadId ? `#/thread/${encodeURIComponent(this.chat.threadId)}` : '#/';
  }

  modelsHref(tab: ModelsTab): string {
    return tab === 'discover' ? '#/models' : `#/models/${tab}`;
  }

  /** Opens the Models screen on a tab and records it in the address bar. */
  async showModels(tab: ModelsTab = this.modelsTab): Promise<void> {
    const hash = this.modelsHref(tab);
    if (location.hash !== hash) history.pushState(null, '', hash);
    await this.applyRoute();
  }

  /** The open chat's title; the list is fresher (the core names a chat after its first message). */
  get threadTitle(): string {
    return this.threads.items.find((t) => t.id === this.chat.threadId)?.title ?? this.chat.thread?.title ?? '';
  }

  async start(): Promise<void> {
    const { bridge, connection } = this.client;
    this.disposers.push(
      bridge.on('chat.stream', (event) => this.chat.handleStream(event)),
      bridge.on('runtime.state', (state) => this.runtime.setState(state)),
      bridge.on('jobs.update', (job) => {
        this.downloads.handleUpdate(job);
        this.documents.handleJob(job);
        this.vault.handleJob(job);
      }),
      bridge.on('library.changed', () => this.documents.handleLibraryChanged()),
      bridge.on('threads.changed', ({ threadId }) => {
        this.refreshThreadsSoon();
        if (threadId === this.chat.threadId) void this.refreshOpenThread(threadId);
      }),
      connection.subscribe((state) => this.onConnection(state)),
    );
    const onHash = () => void this.applyRoute();
    window.addEventListener('hashchange', onHash);
    const tick = setInterval(() => (this.now = Date.now()), 30_000);
    this.disposers.push(
      () => window.removeEventListener('hashchange', onHash),
      () => clearInterval(tick),
    );
    await this.loadEverything();
  }

  dispose(): void {
    for (const dispose of this.disposers.splice(0)) dispose();
  }

  /** Opens a thread (or none) and records it in the address bar. */
  async select(threadId: string | null): Promise<void> {
    const hash = threadId ? `#/thread/${encodeURIComponent(threadId)}` : '';
    if (location.hash !== hash) history.pushState(null, '', hash || location.pathname + location.search);
    await this.applyRoute();
  }

  async newThread(): Promise<boolean> {
    const thread = await this.threads.create();
    if (!thread) return false;
    this.chat.show(thread);
    await this.select(thread.id);
    return true;
  }

  /** Opens a chat at one message (a search hit): scrolled to it, and marked for a moment. */
  async openMessage(threadId: string, messageId: string): Promise<void> {
    await this.select(threadId);
    if (this.chat.threadId === threadId) this.chat.focusMessageId = messageId;
  }

  /** Sends from the composer, starting a chat first when none is open. */
  async send(content: string): Promise<boolean> {
    if (!this.chat.thread && !(await this.newThread())) return false;
    return this.chat.send(content);
  }

  async renameThread(threadId: string, title: string): Promise<void> {
    const thread = await this.threads.rename(threadId, title);
    if (thread) this.chat.setTitle(threadId, thread.title);
  }

  async deleteThread(threadId: string): Promise<void> {
    this.deleting.add(threadId);
    try {
      const deleted = await this.threads.remove(threadId);
      if (deleted && this.chat.threadId === threadId) {
        // On another screen, stay there: only the chat behind it closes.
        if (this.view !== 'chat') this.chat.close();
        else await this.select(null);
      }
    } finally {
      this.deleting.delete(threadId);
    }
  }

  /** Another window or the CLI changed the open thread: show its current state. */
  private async refreshOpenThread(threadId: string): Promise<void> {
    if (this.deleting.has(threadId)) return;
    const result = await this.chat.refresh();
    if (result && !result.ok && result.error.code === 'THREAD_NOT_FOUND' && this.chat.threadId === threadId) {
      this.toasts.info('This chat was deleted elsewhere.');
      await this.select(null);
    }
  }

  private async loadEverything(): Promise<void> {
    const info = this.client.bridge.call('app.info', {}).then((result) => {
      if (result.ok) this.info = result.value;
      else this.toasts.error(result.error, () => this.loadEverything());
    });
    await Promise.all([
      info,
      this.runtime.refresh(),
      this.threads.refresh(),
      this.downloads.refresh(),
      this.settings.refresh(),
      this.documents.refresh(),
      this.vault.refreshIfVisible(),
      this.applyRoute(true),
    ]);
    // A first-run download may have finished while no page was open.
    this.firstRun.resume();
  }

  private async applyRoute(force = false): Promise<void> {
    const documents = DOCUMENTS_ROUTE.exec(location.hash);
    this.documents.setVisible(documents !== null);
    const backup = BACKUP_ROUTE.test(location.hash);
    this.vault.setVisible(backup);
    if (backup) {
      this.view = 'backup';
      return;
    }
    if (SETTINGS_ROUTE.test(location.hash)) {
      this.view = 'settings';
      return;
    }
    if (documents) {
      this.view = 'documents';
      const collectionId = documents[1] ? decodeURIComponent(documents[1]) : null;
      if (collectionId) await this.documents.select(collectionId);
      return;
    }
    const models = MODELS_ROUTE.exec(location.hash);
    if (models) {
      this.view = 'models';
      this.modelsTab = (models[1] as ModelsTab | undefined) ?? 'discover';
      this.discover.ensureLoaded();
      // Files may have been dropped into the models folder since.
      if (this.modelsTab === 'local') void this.runtime.refreshModels();
      return;
    }
    this.view = 'chat';
    const match = ROUTE.exec(location.hash);
    const threadId = match?.[1] ? decodeURIComponent(match[1]) : null;
    if (!force && threadId === this.chat.threadId) return;
    if (!threadId) {
      this.chat.close();
      return;
    }
    const result = await this.chat.open(threadId);
    if (!result.ok) {
      this.toasts.error(result.error);
      // A deleted or unknown thread: forget it so a reload does not fail again.
      if (ROUTE.exec(location.hash)?.[1] === match?.[1]) {
        history.replaceState(null, '', location.pathname + location.search);
        this.chat.close();
      }
    }
  }

  /**
   * Continues on another data folder (a restored one). The host closes this data and opens
   * the other behind the same address; the page reloads once the connection has gone and come
   * back, so every screen shows the other data. False (with a toast) when it was refused.
   */
  async switchDataDir(dataDir: string): Promise<boolean> {
    const result = await this.client.bridge.call('app.switchDataDir', { dataDir });
    if (!result.ok) {
      this.toasts.error(result.error);
      return false;
    }
    this.switching = 'closing';
    return true;
  }

  private onConnection(state: ConnectionState): void {
    this.connection = state;
    if (this.switching === 'closing' && state !== 'open') this.switching = 'reopening';
    else if (this.switching === 'reopening' && state === 'open') {
      location.reload();
      return;
    }
    if (state !== 'open') return;
    // Events were missed while the socket was down: fetch the truth again.
    if (this.wasOpen) void this.loadEverything();
    this.wasOpen = true;
  }

  private onDownloaded(job: JobInfo): void {
    void this.runtime.refreshModels();
    void this.firstRun.completed(job);
    this.toasts.info(`${job.title}: finished. The model is listed under On this machine.`);
  }

  /** Titles and order change as replies finish; coalesce bursts into one list fetch. */
  private refreshThreadsSoon(): void {
    if (this.listRefresh) return;
    this.listRefresh = setTimeout(() => {
      this.listRefresh = null;
      void this.threads.refresh();
    }, 150);
  }
}
