import type { EventName, EventPayload } from '#contract/api';
import type { ModelSource } from '#contract/dto';
import type { AppHost } from '#contract/vocabulary';
import { ApiTokenRepository } from './apiTokens/apiTokenRepository';
import { ApiTokenService } from './apiTokens/apiTokenService';
import { Emitter } from './common/emitter';
import { createConsoleLogger, type Logger } from './common/logger';
import { ThreadGenerationService } from './inference/threadGeneration';
import { ChatArchive } from './inference/chatArchive';
import { ChatService } from './inference/chatService';
import { CompletionService } from './inference/completionService';
import { DEFAULT_QUEUE_LIMITS, GenerationQueue } from './inference/generationQueue';
import { ReplyReceipts } from './inference/replyReceipts';
import { LlamaRuntime, type GpuSetting } from './inference/llamaRuntime';
import { ModelRunner } from './inference/modelRunner';
import { JobManager } from './jobs/jobManager';
import { DocumentLibrary, type LibraryOptions } from './library/documentLibrary';
import { Embedder } from './library/embedder';
import { EmbeddingService } from './library/embeddingService';
import { DocumentParser, type DocumentParserOptions } from './library/parse/documentParser';
import type { ChunkStore } from './search/chunkStore';
import { openChunkStore } from './search/openChunkStore';
import { LibraryRepository } from './storage/libraryRepository';
import { ModelCatalog } from './models/catalog';
import { NetworkLedger } from './network/networkLedger';
import { HardwareFit } from './models/hardwareFit';
import { HUB_TOKEN_SECRET, HubClient } from './models/hubClient';
import { ModelDownloads } from './models/modelDownloads';
import { ModelFileHashes, sha256File } from './models/modelFileHashes';
import { ModelLibrary } from './models/modelLibrary';
import { resolveSource } from './models/resolveSource';
import { FileSecretStore, type SecretStore } from './ports/secretStore';
import { NoDialogs, type Dialogs } from './ports/dialogs';
import { checkDataDirToOpen } from './ports/dataDirCheck';
import { DataDirSwitch, NoHostControl, type HostControl } from './ports/hostControl';
import type { Db } from './storage/database';
import { FileHashRepository } from './storage/fileHashRepository';
import type { PrivateDataDir } from './storage/privateDataDir';
import { JobRepository } from './storage/jobRepository';
import { ModelRepository } from './storage/modelRepository';
import { openDataDir } from './openDataDir';
import { SettingsRepository } from './storage/settingsRepository';
import { Verification } from './verify/verification';
import { ThreadGenerationRepository } from './storage/threadGenerationRepository';
import { ThreadArchiveRepository } from './storage/threadArchiveRepository';
import { ThreadRepository } from './storage/threadRepository';
import { VaultService, type VaultServiceDeps } from './vault/vaultService';

export interface CoreConfig {
  dataDir: string;
  /** Extra folders whose *.gguf files are listed as models, besides dataDir/models. */
  extraModelDirs?: string[];
  gpu?: GpuSetting;
  /** CPU threads for inference; unset uses one per physical core but one (common/threads.ts). */
  threads?: number;
  /** Embedding contexts at once (texts embedded in parallel); unset chooses (library/embeddingParallelism.ts). */
  embeddingContexts?: number;
  host: AppHost;
  version: string;
  /** better_sqlite3.node for the running ABI (the desktop app's Electron build). */
  sqliteNativeBinding?: string;
  /** The curated catalog shipped with the app (models/catalog.json). */
  catalogPath: string;
  /** The document parser's child-process entry: the built parseWorker.js, or its .ts source in tests and dev. */
  parseWorkerPath: string;
  /** Per-file limits for parsing documents (time, memory, size). */
  parser?: Omit<DocumentParserOptions, 'workerPath'>;
  library?: Partial<LibraryOptions>;
  /** Vault knobs for tests and self-hosting: scrypt cost, a web3.storage service, schedule polling. */
  vault?: Pick<VaultServiceDeps, 'scryptN' | 'w3up' | 'scheduleCheckMs' | 'lockWaitMs'>;
  /** quick_check hearth.db as it opens (default true); see DataDirConfig.checkDatabaseAtOpen. */
  checkDatabaseAtOpen?: boolean;
}

export interface CorePorts {
  dialogs?: Dialogs;
  logger?: Logger;
  /** Where tokens are kept; the desktop app passes Electron safeStorage, others get an encrypted file. */
  secrets?: SecretStore;
  /** What the hosting program can do to itself (switch data folders); absent, nothing. */
  host?: HostControl;
}


export type CoreEvents = { [N in EventName]: EventPayload<N> };

export interface Core {
  config: CoreConfig;
  db: Db;
  events: Emitter<CoreEvents>;
  logger: Logger;
  dialogs: Dialogs;
  /** Continuing on another data folder (a restored one), where the host can. */
  dataDirSwitch: DataDirSwitch;
  settings: SettingsRepository;
  runtime: LlamaRuntime;
  models: ModelLibrary;
  /** Fit, load, unload and remove models: what every front end calls to run one. */
  runner: ModelRunner;
  chat: ChatService;
  /** A chat's own sampling values (temperature, top-p, ...) over the saved defaults. */
  generation: ThreadGenerationService;
  /** Search across every chat, export and import of chats. */
  chatArchive: ChatArchive;
  /** Completions for the local API (OpenAI and Anthropic shapes), sharing the model's turns with chat. */
  completions: CompletionService;
  /** Embeddings for the local API, with the library's embedding model. */
  embeddings: EmbeddingService;
  /** Answer receipts: made with each reply, signed later when the wallet was locked. */
  receipts: ReplyReceipts;
  /** Proof bundles and verification of replies and files (replaying on the CPU). */
  verification: Verification;
  jobs: JobManager;
  secrets: SecretStore;
  catalog: ModelCatalog;
  hub: HubClient;
  fit: HardwareFit;
  downloads: ModelDownloads;
  library: DocumentLibrary;
  embedder: Embedder;
  vault: VaultService;
  /** Keeps the data directory 0700 and its files 0600; settle() makes private what was written since. */
  privacy: PrivateDataDir;
  /** Every outbound request this process sends (host, purpose, bytes), in network/ledger.db. */
  network: NetworkLedger;
  /** Tokens for the local API and MCP (hash-only storage, scopes, expiry, revocation). */
  apiTokens: ApiTokenService;
  dispose(): Promise<void>;
}

/** Builds every service from config and host ports. Every front end starts here. */
export function createCore(config: CoreConfig, ports: CorePorts = {}): Core {
  const logger = ports.logger ?? createConsoleLogger();
  const { layout, privacy, db, close } = openDataDir(config, logger);
  // A listener that throws is logged and skipped: it never ends the work that emitted.
  const events = new Emitter<CoreEvents>((error, event) => logger.error(`a listener of ${event} failed`, error));

  // Listening before any service exists, so no request goes unrecorded.
  const network = NetworkLedger.open({ file: layout.networkLedger, logger, sqliteNativeBinding: config.sqliteNativeBinding });
  const settings = new SettingsRepository(db, logger);
  const runtime = new LlamaRuntime(
    config.gpu ?? 'auto',
    config.threads ?? null,
    logger,
    (state) => events.emit('runtime.state', state),
    () => settings.get().idleUnloadMinutes * 60_000,
  );
  const models = new ModelLibrary(new ModelRepository(db), () => runtime.llama(), [layout.models, ...(config.extraModelDirs ?? [])], logger);
  const jobs = new JobManager(new JobRepository(db, Date.now, logger), logger, (job) => {
    events.emit('jobs.update', job);
    // What a job's libraries wrote (LanceDB files, downloads, snapshot blocks) is made private once it ends.
    if (job.status !== 'running' && job.status !== 'queued') privacy.settle().catch((error: unknown) => logger.warn('could not make new files in the data directory private', error));
  });
  const secrets = ports.secrets ?? new FileSecretStore(config.dataDir);
  const catalog = new ModelCatalog(config.catalogPath);
  const hub = new HubClient({
    endpoint: () => settings.get().hubEndpoint,
    token: () => secrets.get(HUB_TOKEN_SECRET),
    saveToken: (token) => secrets.set(HUB_TOKEN_SECRET, token),
  });
  const fit = new HardwareFit(() => runtime.llama());
  const resolve = (source: ModelSource, signal?: AbortSignal) => resolveSource({ catalog, hub }, source, signal);
  const hashes = new ModelFileHashes(new FileHashRepository(db));
  const downloads = new ModelDownloads({ jobs, library: models, modelsDir: layout.models, tempDir: layout.downloads, logger, resolve, hashes });
  const runner = new ModelRunner({ runtime, models, settings, fit, resolve });
  const embedder = new Embedder(() => runtime.llama(), runtime, logger, config.threads ?? null, config.embeddingContexts ?? null);
  const parser = new DocumentParser({ workerPath: config.parseWorkerPath, ocr: () => settings.get().ocr, ...config.parser });
  let storePromise: Promise<ChunkStore> | null = null;
  const dialogs = ports.dialogs ?? new NoDialogs();
  const dataDirSwitch = new DataDirSwitch(ports.host ?? new NoHostControl(), config.dataDir, (dir, current) =>
    checkDataDirToOpen(dir, current, config.sqliteNativeBinding),
  );
  const libraryRepo = new LibraryRepository(db, Date.now, logger);
  const library = new DocumentLibrary({
    repo: libraryRepo,
    store: () => (storePromise ??= openChunkStore(layout.index)),
    parser,
    embedder,
    models,
    jobs,
    logger,
    onChanged: (collectionId) => events.emit('library.changed', { collectionId }),
    openFile: (path, page) => dialogs.openDocument(path, page),
    options: config.library,
  });
  // OCR just turned on: the scans and images skipped for want of it are read again, in a run started now.
  settings.events.on('changed', ({ before, after }) => {
    if (before.ocr || !after.ocr || libraryRepo.markScansPending() === 0) return;
    try {
      library.rescan();
    } catch (error) {
      logger.warn('OCR is on, but the documents waiting for it could not be queued now; the next scan reads them', error);
    }
  });
  const vault = new VaultService({
    dataDir: config.dataDir,
    db,
    jobs,
    secrets,
    logger,
    appVersion: config.version,
    openStore: async () => (storePromise ? await storePromise.catch(() => null) : null),
    documents: () => library.indexedFiles(),
    sqliteNativeBinding: config.sqliteNativeBinding,
    ...config.vault,
  });
  const apiTokens = new ApiTokenService({ repo: new ApiTokenRepository(db), findCollection: (nameOrId) => library.findCollection(nameOrId) });
  const threads = new ThreadRepository(db, Date.now, logger);
  const receipts = new ReplyReceipts({
    threads,
    hashes,
    signer: { current: () => vault.signingWallet() },
    enabled: () => settings.get().answerReceipts,
    documentSha256: (docId) => libraryRepo.document(docId)?.contentHash ?? null,
    hearthVersion: config.version,
    logger,
    onThreadChanged: (threadId) => events.emit('threads.changed', { threadId }),
  });
  const generation = new ThreadGenerationService(settings, new ThreadGenerationRepository(db, logger), (threadId) => threads.get(threadId) !== undefined);
  // One turn order for the model: the UI's chats and API requests take turns (see GenerationQueue).
  // As many at once as the loaded model has context sequences (see SequencePool).
  const queue = new GenerationQueue({ ...DEFAULT_QUEUE_LIMITS, concurrency: () => runtime.loaded?.pool.size ?? 1 });
  const chat = new ChatService(
    threads,
    settings,
    runtime,
    (e) => events.emit('chat.stream', e),
    logger,
    (threadId) => events.emit('threads.changed', { threadId }),
    runner,
    library.retriever,
    receipts,
    generation,
    queue,
  );
  const chatArchive = new ChatArchive(new ThreadArchiveRepository(db), threads, (threadId) => events.emit('threads.changed', { threadId }));
  const completions = new CompletionService({ runtime, runner, models, settings, queue, retriever: library.retriever, logger });
  const embeddings = new EmbeddingService(models, embedder);
  const verification = new Verification({
    logger,
    threads: config.threads ?? null,
    receipt: (messageId) => receipts.read(messageId),
    receiptIds: (threadId, messageId) => threads.chainReceipts(threadId, messageId).map((r) => r.messageId),
    message: (messageId) => threads.message(messageId),
    thread: (threadId, replyId) => {
      const thread = chat.getThread(threadId);
      const reply = replyId === undefined ? undefined : threads.message(replyId);
      // A version of a reply not shown now is verified in the chat as it stood when it was written.
      return reply ? { ...thread, messages: threads.messagesAsSeenBy(reply) } : thread;
    },
    hashFile: (path) => hashes.hash(path),
    modelPaths: async () => (await models.list()).filter((m) => m.present).map((m) => m.path),
    vaultAddress: async () => (await vault.status()).address,
    documents: {
      get: (docId) => libraryRepo.document(docId) ?? null,
      chunkText: (chunkId) => library.chunk(chunkId).then((hit) => hit.text, () => null),
      documentText: (docId) => library.documentText(docId).then((doc) => doc?.text ?? null, () => null),
      fileSha256: (path) => sha256File(path).catch(() => null),
    },
  });
  // A loaded model's file is hashed for answer receipts right away, not when its first reply ends.
  events.on('runtime.state', (state) => state.state === 'ready' && runtime.loaded && receipts.warm(runtime.loaded));
  // Documents are embedded again when the embedding default changes, whichever front end changed it.
  models.onDefaultChanged((purpose) => purpose === 'embedding' && library.embeddingModelChanged());
  // Every job kind is registered: jobs left running by a crash or quit resume now.
  jobs.recover();
  library.start();
  void vault.start();

  let disposed = false;
  return {
    config,
    db,
    events,
    logger,
    dialogs,
    dataDirSwitch,
    settings,
    runtime,
    models,
    runner,
    chat,
    generation,
    chatArchive,
    completions,
    embeddings,
    receipts,
    verification,
    jobs,
    secrets,
    catalog,
    hub,
    fit,
    downloads,
    library,
    embedder,
    vault,
    privacy,
    network,
    apiTokens,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await chat.dispose();
      await verification.dispose();
      await library.dispose();
      await jobs.shutdown();
      await parser.dispose();
      await embedder.unload();
      if (storePromise) (await storePromise.catch(() => null))?.close();
      await runtime.dispose();
      vault.dispose();
      await privacy.idle();
      network.close();
      close();
    },
  };
}
