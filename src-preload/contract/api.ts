import { z } from 'zod';
import { MAX_IMPORT_CHARS, MAX_MESSAGE_CHARS } from './limits';
import { CALL_NAMES, EVENT_NAMES, isCallName, isEventName, type CallName, type EventName } from './names';
import { DOCUMENT_FORMATS, DOCUMENT_STATUSES, MODEL_PURPOSES, SEARCH_MODES, SOURCE_KINDS, THREAD_EXPORT_FORMATS } from './vocabulary';
import type {
  ApiToken,
  ApiTokenCreated,
  AppInfo,
  CatalogEntry,
  ChatSearchHit,
  ContextUsage,
  FitResult,
  GenerationParams,
  GenerationPreset,
  HardwareInfo,
  HubFile,
  HubModelSummary,
  ChatStreamEvent,
  Collection,
  DocumentInfo,
  IndexStatus,
  JobInfo,
  SearchHit,
  Source,
  LoadedModel,
  ModelInfo,
  NetworkLedgerView,
  RuntimeState,
  ReceiptSigning,
  SendResult,
  Settings,
  Thread,
  ThreadGeneration,
  ThreadExport,
  ThreadImportResult,
  ThreadSummary,
  VaultCreated,
  VaultSchedule,
  VaultSnapshot,
  VaultStatus,
  VaultTarget,
} from './dto';
import type { ProofBundle, VerifyReport } from './verify';

/**
 * The one description of everything that crosses the UI boundary. The main process and
 * the local server register handlers from it, the preload builds its client from it, and
 * the renderer calls it through lib/api/client.ts. Inputs are validated with the zod
 * schemas below wherever they arrive (the renderer is untrusted); outputs are typed only.
 */

export interface CallDef<I, O> {
  readonly kind: 'call';
  readonly input: z.ZodType;
  /** Phantoms: carry the input and output types, never set at run time. */
  readonly inputType?: I;
  readonly output?: O;
}

export interface EventDef<T> {
  readonly kind: 'event';
  /** Phantom: carries the payload type, never set at run time. */
  readonly payload?: T;
}

/** `call<Output>()(inputSchema)`: curried so the input type is inferred from the schema. */
export const call =
  <O>() =>
  <S extends z.ZodType>(input: S): CallDef<z.output<S>, O> => ({ kind: 'call', input });

export const event = <T>(): EventDef<T> => ({ kind: 'event' });

export { MAX_MESSAGE_CHARS };

const id = z.string().min(1).max(64);
const repo = z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'a Hugging Face repository like owner/name').max(200);
const hubFile = z.string().min(1).max(500).refine((f) => !f.split('/').includes('..') && !f.startsWith('/'), 'a file path inside the repository');
const revision = z.string().regex(/^[\w.-]+$/).max(100);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/i, 'a sha256 in hex');
const modelSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('catalog'), id: z.string().min(1).max(100), quantization: z.string().max(40).optional() }).strict(),
  z.object({ kind: z.literal('hub'), repo, file: hubFile, revision: revision.optional() }).strict(),
  z.object({ kind: z.literal('url'), url: z.string().url().max(4096).refine((u) => /^https?:/i.test(u), 'an http(s) URL'), sha256: sha256.optional() }).strict(),
]);
const purpose = z.enum(MODEL_PURPOSES);
const empty = z.object({}).strict();
const threadRef = z.object({ threadId: id }).strict();
const localPath = z.string().min(1).max(4096).refine((p) => !p.includes('\0'), 'a path without NUL characters');
/**
 * A model file named by a front end: a full path, since a relative one would resolve against
 * the server's working directory, not anything the user sees (the CLI resolves its own first).
 */
const modelFilePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(p.trim()), 'a file path, not a URL: a URL is pulled as a download')
  .refine((p) => /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(p), 'a full path to the file (like /home/you/models/model.gguf): a relative path is not accepted');
const collectionName = z.string().trim().min(1).max(100);
const formatName = z.enum(DOCUMENT_FORMATS);
const documentStatus = z.enum(DOCUMENT_STATUSES);
/** scrypt makes each guess slow; the length rule keeps guesses many. */
const passphrase = z.string().min(8, 'a passphrase of at least 8 characters').max(1000);
const phrase = z.string().trim().min(1).max(1000);
const cid = z.string().regex(/^b[a-z2-7]{20,120}$/, 'a CIDv1 in base32 (starts with "b")');
/** Only http(s): a `javascript:` or `file:` URL is a valid URL, but never a server to talk to. */
const httpUrlOf = (max: number) => z.string().url().max(max).refine((u) => /^https?:/i.test(u), 'an http(s) URL');
const httpUrl = httpUrlOf(2000);
const snapshotContent = { includeModels: z.boolean().optional(), includeDocuments: z.boolean().optional() };

/** The sampling values a reply may take; the saved defaults, a thread's overrides and presets use them alike. */
export const generationParamsSchema = z
  .object({
    temperature: z.number().min(0).max(2),
    topP: z.number().gt(0).max(1),
    topK: z.number().int().min(0).max(1000),
    repeatPenalty: z.number().min(1).max(2),
    maxReplyTokens: z.number().int().min(1).max(131_072),
  })
  .strict() satisfies z.ZodType<GenerationParams>;

export const generationPresetSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    name: z.string().trim().min(1).max(80),
    systemPrompt: z.string().max(20_000),
    params: generationParamsSchema.partial(),
  })
  .strict() satisfies z.ZodType<GenerationPreset>;

/** Every setting and the values it may take: checks updates, and the values read back from disk. */
export const settingsSchema = z.object({
  ...generationParamsSchema.shape,
  contextSize: z.number().int().min(256).max(1_048_576).nullable(),
  idleUnloadMinutes: z.number().int().min(0).max(24 * 60),
  hubEndpoint: httpUrlOf(500),
  answerReceipts: z.boolean(),
  ocr: z.boolean(),
  localApi: z.boolean(),
  presets: z
    .array(generationPresetSchema)
    .max(50)
    .refine((presets) => new Set(presets.map((p) => p.id)).size === presets.length, 'each preset needs its own id'),
  localApiLan: z.boolean(),
}) satisfies z.ZodType<Settings>;

export const calls = {
  'app.info': call<AppInfo>()(empty),
  /** Continues on another data folder (a restored one): the desktop app restarts, `hearth serve` reopens behind the same address. */
  'app.switchDataDir': call<null>()(z.object({ dataDir: z.string().min(1).max(4096) }).strict()),

  'settings.get': call<Settings>()(empty),
  'settings.update': call<Settings>()(settingsSchema.partial().strict()),
  /** Forgets the saved values of these settings, so their defaults apply again. */
  'settings.reset': call<Settings>()(
    z.object({ keys: z.array(z.enum(Object.keys(settingsSchema.shape) as [keyof Settings, ...(keyof Settings)[]])).min(1).max(50) }).strict(),
  ),

  'models.list': call<ModelInfo[]>()(empty),
  'models.add': call<ModelInfo>()(z.object({ path: modelFilePath }).strict()),
  'models.remove': call<null>()(z.object({ modelId: id }).strict()),
  'models.pickFile': call<string | null>()(empty),

  'runtime.state': call<RuntimeState>()(empty),
  'runtime.load': call<LoadedModel>()(z.object({ modelId: id }).strict()),
  'runtime.unload': call<null>()(empty),

  'threads.list': call<ThreadSummary[]>()(empty),
  /** reuseEmpty: an empty chat with the default title is opened instead of piling up another one (the UI's New chat). */
  'threads.create': call<Thread>()(
    z
      .object({ title: z.string().max(200).optional(), systemPrompt: z.string().max(20_000).optional(), reuseEmpty: z.boolean().optional() })
      .strict(),
  ),
  'threads.get': call<Thread>()(threadRef),
  'threads.update': call<Thread>()(
    z
      .object({ threadId: id, title: z.string().min(1).max(200).optional(), systemPrompt: z.string().max(20_000).optional() })
      .strict(),
  ),
  'threads.delete': call<null>()(threadRef),
  /** A chat's own sampling values (overrides: null follows the saved defaults) and what it gets. */
  'threads.generation': call<ThreadGeneration>()(threadRef),
  'threads.setGeneration': call<ThreadGeneration>()(
    z.object({ threadId: id, overrides: generationParamsSchema.partial().nullable() }).strict(),
  ),
  /** Full-text search across every chat's messages (the versions shown), best matches first, with the matched words marked. */
  'threads.search': call<ChatSearchHit[]>()(
    z.object({ query: z.string().trim().min(1).max(500), limit: z.number().int().min(1).max(200).optional() }).strict(),
  ),
  /** One chat (threadId) or every chat as a Markdown or Hearth JSON file. */
  'threads.export': call<ThreadExport>()(z.object({ threadId: id.optional(), format: z.enum(THREAD_EXPORT_FORMATS) }).strict()),
  /** Adds the chats of a Hearth JSON export or a ChatGPT conversations.json, checked first and added in one transaction. */
  'threads.import': call<ThreadImportResult>()(z.object({ content: z.string().min(1).max(MAX_IMPORT_CHARS) }).strict()),

  // The content limit is enforced by the chat service (MESSAGE_TOO_LARGE), not here, so
  // that the user gets a specific code rather than a generic BAD_INPUT.
  'chat.send': call<SendResult>()(z.object({ threadId: id, content: z.string().min(1) }).strict()),
  'chat.stop': call<null>()(threadRef),
  'chat.regenerate': call<SendResult>()(threadRef),
  'chat.edit': call<SendResult>()(z.object({ threadId: id, messageId: id, content: z.string().min(1) }).strict()),
  /** Shows another version of a regenerated reply; later turns see the chosen one. */
  'chat.chooseVersion': call<Thread>()(z.object({ threadId: id, messageId: id }).strict()),
  /** The context the chat's history takes in the loaded model now (null when no model is loaded and none was measured). */
  'chat.context': call<ContextUsage | null>()(threadRef),
  /** Signs the answer receipts stored unsigned while the vault was locked: one chat's, or every chat's. */
  'receipts.sign': call<ReceiptSigning>()(z.object({ threadId: id.optional() }).strict()),
  /** A reply's proof bundle: its receipt and chain, and its full transcript when asked for. */
  'receipts.export': call<ProofBundle>()(z.object({ messageId: id, transcript: z.boolean() }).strict()),
  /** Checks a reply here: signature, chain, transcript, model file, replay, sources. */
  'receipts.verify': call<VerifyReport>()(z.object({ messageId: id }).strict()),

  'jobs.list': call<JobInfo[]>()(empty),
  'jobs.cancel': call<null>()(z.object({ jobId: id }).strict()),
  'jobs.pause': call<null>()(z.object({ jobId: id }).strict()),
  'jobs.resume': call<null>()(z.object({ jobId: id }).strict()),

  'catalog.list': call<CatalogEntry[]>()(empty),
  'hub.search': call<HubModelSummary[]>()(
    z.object({ query: z.string().max(200), limit: z.number().int().min(1).max(100).optional() }).strict(),
  ),
  'hub.files': call<HubFile[]>()(z.object({ repo, revision: revision.optional() }).strict()),
  /** Stores (or with null, forgets) the Hugging Face token for gated models, in the secret store. */
  'hub.setToken': call<null>()(z.object({ token: z.string().min(1).max(500).nullable() }).strict()),
  'hardware.info': call<HardwareInfo>()(empty),
  'models.fit': call<FitResult>()(
    z.object({ source: z.union([modelSource, z.object({ kind: z.literal('local'), modelId: id }).strict()]) }).strict(),
  ),
  /** Starts a download job; progress arrives on jobs.update. Two pulls of one file share one job. */
  'models.pull': call<JobInfo>()(z.object({ source: modelSource }).strict()),
  /** Adds a GGUF already on disk: copied into the models folder, or referenced where it is. */
  'models.import': call<ModelInfo>()(z.object({ path: modelFilePath, copy: z.boolean() }).strict()),
  'models.setDefault': call<null>()(z.object({ modelId: id.nullable(), purpose }).strict()),
  'models.setGpuLayers': call<ModelInfo>()(
    z.object({ modelId: id, gpuLayers: z.number().int().min(0).max(1000).nullable() }).strict(),
  ),

  /** Scopes a chat to collections (empty: a plain chat); replies then cite retrieved passages. */
  'threads.setCollections': call<Thread>()(z.object({ threadId: id, collectionIds: z.array(id).max(50) }).strict()),

  'collections.list': call<Collection[]>()(empty),
  'collections.create': call<Collection>()(z.object({ name: collectionName }).strict()),
  'collections.rename': call<Collection>()(z.object({ collectionId: id, name: collectionName }).strict()),
  /** Removes the collection, its sources and their chunks from the index (the files stay). */
  'collections.delete': call<null>()(z.object({ collectionId: id }).strict()),
  'sources.list': call<Source[]>()(z.object({ collectionId: id.optional() }).strict()),
  /** Adds a folder or file and starts indexing it; progress arrives on jobs.update. */
  'sources.add': call<{ source: Source; job: JobInfo | null }>()(z.object({ collectionId: id, path: localPath }).strict()),
  'sources.remove': call<null>()(z.object({ sourceId: id }).strict()),
  /** Desktop only: the OS picker for a folder or a file; null when cancelled or not available. */
  'sources.pick': call<string | null>()(z.object({ kind: z.enum(SOURCE_KINDS) }).strict()),
  'documents.list': call<DocumentInfo[]>()(
    z.object({ collectionId: id.optional(), sourceId: id.optional(), status: documentStatus.optional() }).strict(),
  ),
  /** One passage by chunk id, e.g. to show what a citation points at. */
  'documents.chunk': call<SearchHit>()(z.object({ chunkId: z.string().min(1).max(200) }).strict()),
  /** Desktop only: opens the document in the system viewer (PDFs at the page where possible). */
  'documents.open': call<null>()(z.object({ docId: id, page: z.number().int().min(1).optional() }).strict()),
  'index.status': call<IndexStatus>()(empty),
  /** Looks for changes in one source, or all; returns the indexing job, or null when nothing changed on disk. */
  'index.rescan': call<JobInfo | null>()(z.object({ sourceId: id.optional() }).strict()),
  /**
   * Makes the document index again after index/ was deleted or moved (status.blocker INDEX_MISSING):
   * a job that re-embeds every document. With the index intact, a full rescan.
   */
  'index.rebuild': call<JobInfo>()(empty),
  'search.query': call<SearchHit[]>()(
    z
      .object({
        query: z.string().trim().min(1).max(2000),
        collectionIds: z.array(id).max(50).optional(),
        pathPrefix: localPath.optional(),
        formats: z.array(formatName).max(8).optional(),
        limit: z.number().int().min(1).max(100).optional(),
        mode: z.enum(SEARCH_MODES).optional(),
        rerank: z.boolean().optional(),
      })
      .strict(),
  ),

  'vault.status': call<VaultStatus>()(empty),
  /** Creates a wallet; the phrase comes back once, to write down. The key is kept only in a scrypt keystore. */
  'vault.create': call<VaultCreated>()(z.object({ passphrase, remember: z.boolean().optional() }).strict()),
  'vault.import': call<VaultStatus>()(z.object({ phrase, passphrase, remember: z.boolean().optional() }).strict()),
  'vault.unlock': call<VaultStatus>()(z.object({ passphrase, remember: z.boolean().optional() }).strict()),
  /** Forgets the key in memory (and the remembered passphrase). */
  'vault.lock': call<VaultStatus>()(empty),
  /** The recovery phrase, only for the right passphrase (WRONG_PASSPHRASE otherwise). */
  'vault.revealPhrase': call<{ phrase: string }>()(z.object({ passphrase }).strict()),
  /**
   * Starts a snapshot job (incremental: files unchanged since the last one are not read); with
   * targetId it is published there when done; `full` reads every file (a full verify).
   */
  'vault.snapshot': call<JobInfo>()(z.object({ ...snapshotContent, targetId: id.optional(), full: z.boolean().optional() }).strict()),
  'vault.snapshots': call<VaultSnapshot[]>()(empty),
  /** Starts a job that sends the blocks the target lacks as one CAR. */
  'vault.publish': call<JobInfo>()(z.object({ cid, targetId: id }).strict()),
  'vault.targets': call<VaultTarget[]>()(empty),
  /** w3up: logs in by email (waits for the link in the email to be clicked) and creates or reuses a space. */
  'vault.addTarget': call<VaultTarget>()(
    z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('folder'), path: localPath, name: z.string().trim().min(1).max(100).optional() }).strict(),
      z.object({ kind: z.literal('kubo'), apiUrl: httpUrl, name: z.string().trim().min(1).max(100).optional() }).strict(),
      z.object({ kind: z.literal('w3up'), email: z.string().email().max(300), space: z.string().trim().min(1).max(100).optional(), name: z.string().trim().min(1).max(100).optional() }).strict(),
    ]),
  ),
  'vault.removeTarget': call<null>()(z.object({ targetId: id }).strict()),
  'vault.setSchedule': call<VaultSchedule>()(
    z
      .object({
        intervalHours: z.number().min(0.25).max(24 * 30).nullable().optional(),
        targetId: id.nullable().optional(),
        keep: z.number().int().min(1).max(1000).optional(),
        keepModelBlocks: z.boolean().optional(),
        ...snapshotContent,
      })
      .strict(),
  ),
  /**
   * Restores a snapshot into another data directory (never over live data): from a target, or a
   * trustless gateway URL; by CID, or the latest one the target's pointer names.
   */
  'vault.restore': call<JobInfo>()(
    z
      .object({
        phrase,
        cid: cid.optional(),
        from: z.discriminatedUnion('kind', [
          z.object({ kind: z.literal('target'), targetId: id }).strict(),
          z.object({ kind: z.literal('gateway'), url: httpUrl }).strict(),
        ]),
        dataDir: localPath,
      })
      .strict(),
  ),

  /** Every outbound request Hearth made (host, purpose, bytes, status), newest first; remoteOnly leaves out loopback. */
  'network.ledger': call<NetworkLedgerView>()(
    z.object({ limit: z.number().int().min(1).max(10_000).optional(), remoteOnly: z.boolean().optional() }).strict(),
  ),

  /** API tokens for the local API and MCP (never the UI's session token); the secret is returned once, by create. */
  'apiTokens.list': call<ApiToken[]>()(empty),
  'apiTokens.create': call<ApiTokenCreated>()(
    z
      .object({
        name: z.string().trim().min(1).max(100),
        scopes: z.array(z.string().min(1).max(120)).min(1).max(60),
        /** Milliseconds since the epoch; null or absent: never. */
        expiresAt: z.number().int().positive().nullable().optional(),
      })
      .strict(),
  ),
  'apiTokens.revoke': call<ApiToken>()(z.object({ tokenId: id }).strict()),
} as const satisfies Record<CallName, CallDef<unknown, unknown>>;

export const events = {
  'chat.stream': event<ChatStreamEvent>(),
  'runtime.state': event<RuntimeState>(),
  'jobs.update': event<JobInfo>(),
  'threads.changed': event<{ threadId: string }>(),
  /** Collections, sources or document statuses changed (throttled while indexing). */
  'library.changed': event<{ collectionId: string | null }>(),
} as const satisfies Record<EventName, EventDef<unknown>>;

export type Calls = typeof calls;
export type Events = typeof events;
export type { CallName, EventName };

// Compile-time check that names.ts lists exactly the calls and events defined here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const namesMatch: Same<keyof Calls, CallName> & Same<keyof Events, EventName> = true;
void namesMatch;
export type CallInput<N extends CallName> = Calls[N] extends CallDef<infer I, unknown> ? I : never;
export type CallOutput<N extends CallName> = Calls[N] extends CallDef<unknown, infer O> ? O : never;
export type EventPayload<N extends EventName> = Events[N] extends EventDef<infer T> ? T : never;

export const callNames: readonly CallName[] = CALL_NAMES;
export const eventNames: readonly EventName[] = EVENT_NAMES;
export { isCallName, isEventName };
