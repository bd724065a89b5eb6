/**
 * The product's closed lists, each declared once: a const array and the type derived from it.
 * The core, the CLI and the renderer import these (api.ts builds its zod enums from them,
 * dto.ts its types); nothing outside the contract spells a list out again, which
 * tests/arch/vocabulary.test.ts checks. Plain data with no imports, so any front end (the
 * preload included) can take a list without the zod schemas.
 */

/** Whether a value (read back from disk, say) is a member of a closed list. */
export function isMember<T extends string>(list: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (list as readonly string[]).includes(value);
}

// ---- Models and the runtime ----

/** What a model is the default for. */
export const MODEL_PURPOSES = ['chat', 'embedding', 'rerank'] as const;
export type ModelPurpose = (typeof MODEL_PURPOSES)[number];

/** What a model is for, from its metadata: chat/generation, embeddings or reranking. */
export const MODEL_KINDS = ['generative', 'embedding', 'rerank'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/** Catalog size tiers, for grouping: tiny (< 1B), small (1-4B), medium (7-9B). */
export const MODEL_TIERS = ['tiny', 'small', 'medium'] as const;
export type ModelTier = (typeof MODEL_TIERS)[number];

/** Where a model fits: all layers on the GPU, some, CPU only, or not at all. */
export const FIT_VERDICTS = ['gpu', 'partial', 'cpu', 'none'] as const;
export type FitVerdict = (typeof FIT_VERDICTS)[number];

/** The compute backend a model runs on. */
export const GPU_BACKENDS = ['cuda', 'vulkan', 'metal', 'cpu'] as const;
export type GpuBackend = (typeof GPU_BACKENDS)[number];

/** The GPU choice a user can make (HEARTH_GPU, --gpu): let node-llama-cpp pick, no GPU, or one backend. */
export const GPU_SETTINGS = ['auto', 'off', 'cuda', 'vulkan', 'metal'] as const;
export type GpuSetting = (typeof GPU_SETTINGS)[number];

// ---- Chats ----

export const MESSAGE_ROLES = ['user', 'assistant'] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

/** complete: finished normally; stopped: the user stopped it; length: it hit the token limit. */
export const MESSAGE_STATUSES = ['complete', 'streaming', 'stopped', 'length', 'error'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** A reply's answer receipt: signed by the vault's wallet, stored unsigned (the wallet was locked), or none. */
export const RECEIPT_STATUSES = ['signed', 'unsigned', 'none'] as const;
export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number];

/** The files a chat (or every chat) can be exported as. */
export const THREAD_EXPORT_FORMATS = ['markdown', 'json'] as const;
export type ThreadExportFormat = (typeof THREAD_EXPORT_FORMATS)[number];

/** The files chats can be imported from: Hearth's own JSON export, or ChatGPT's conversations.json. */
export const THREAD_IMPORT_FORMATS = ['hearth', 'chatgpt'] as const;
export type ThreadImportFormat = (typeof THREAD_IMPORT_FORMATS)[number];

// ---- Jobs ----

/** The kinds of long-running work, by name: `job.kind === JOB_KIND.modelDownload`. */
export const JOB_KIND = {
  modelDownload: 'model.download',
  libraryIndex: 'library.index',
  vaultSnapshot: 'vault.snapshot',
  vaultPublish: 'vault.publish',
  vaultRestore: 'vault.restore',
} as const;
export type JobKind = (typeof JOB_KIND)[keyof typeof JOB_KIND];
export const JOB_KINDS: readonly JobKind[] = Object.values(JOB_KIND);

export const JOB_STATUSES = ['queued', 'running', 'paused', 'completed', 'failed', 'cancelled', 'interrupted'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

// ---- The app ----

/** 'desktop' when an Electron shell hosts the UI, 'server' for the headless server. */
export const APP_HOSTS = ['desktop', 'server'] as const;
export type AppHost = (typeof APP_HOSTS)[number];

// ---- Your documents ----

/** Document formats Hearth reads; `code` is source code, by extension. */
export const DOCUMENT_FORMATS = ['markdown', 'text', 'pdf', 'docx', 'html', 'epub', 'csv', 'code', 'image'] as const;
export type DocumentFormatName = (typeof DOCUMENT_FORMATS)[number];

export const DOCUMENT_STATUSES = ['pending', 'indexed', 'skipped', 'failed'] as const;
export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];

/**
 * Why a file was not indexed. The first five leave it `skipped` (the file is fine, there is
 * just nothing Hearth can index in it); the rest leave it `failed` (reading it went wrong).
 */
export const DOCUMENT_REASON_CODES = [
  'UNSUPPORTED',
  'EMPTY',
  'NO_TEXT',
  'ENCRYPTED',
  'TOO_LARGE',
  'CORRUPT',
  'TIMEOUT',
  'OUT_OF_MEMORY',
  'UNREADABLE',
] as const;
export type DocumentReasonCode = (typeof DOCUMENT_REASON_CODES)[number];

/** What a source is: a folder (watched) or a single file. */
export const SOURCE_KINDS = ['folder', 'file'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export const SEARCH_MODES = ['hybrid', 'bm25', 'vector'] as const;
export type SearchMode = (typeof SEARCH_MODES)[number];

/**
 * How a search actually ran: 'hybrid' (full text and vectors), 'full-text' (BM25 alone: asked
 * for, or no embedding model yet) or 'vector' (asked for).
 */
export const RETRIEVAL_MODES = ['hybrid', 'full-text', 'vector'] as const;
export type RetrievalMode = (typeof RETRIEVAL_MODES)[number];

// ---- The vault ----

export const VAULT_TARGET_KINDS = ['folder', 'kubo', 'w3up'] as const;
export type VaultTargetKind = (typeof VAULT_TARGET_KINDS)[number];

/** none: no wallet yet; locked: a keystore, passphrase needed; unlocked: ready to snapshot. */
export const VAULT_STATES = ['none', 'locked', 'unlocked'] as const;
export type VaultState = (typeof VAULT_STATES)[number];

/**
 * Where a remembered passphrase (and other secrets) is kept: `keychain`, the OS keychain or the
 * Secret Service, outside the data directory; `dataDir`, inside the data directory, encrypted
 * under a key stored beside it, so anyone who can copy the directory can recover it.
 */
export const SECRET_KEEPERS = ['keychain', 'dataDir'] as const;
export type SecretKeeper = (typeof SECRET_KEEPERS)[number];

/** Where a restore reads from: one of the user's targets, or a trustless gateway URL. */
export const RESTORE_ORIGINS = ['target', 'gateway'] as const;
export type RestoreOrigin = (typeof RESTORE_ORIGINS)[number];

// ---- The network ----

/**
 * Why Hearth made an outbound request, recorded with each one in the network ledger.
 * hub-api: Hugging Face search and file lists; model-probe: a download's HEAD and first bytes,
 * a remote model's GGUF header (fit); model-download: the transfer itself; vault-account:
 * Storacha sign-in, spaces and upload lists; vault-publish / vault-restore: snapshot blocks out
 * and back; unattributed: a request no code declared a purpose for (shown, never hidden).
 */
export const NETWORK_PURPOSES = ['hub-api', 'model-probe', 'model-download', 'vault-account', 'vault-publish', 'vault-restore', 'unattributed'] as const;
export type NetworkPurpose = (typeof NETWORK_PURPOSES)[number];

// ---- The local API ----

/**
 * What an API token may do. `documents:*` reaches every collection; a token may instead hold
 * `documents:<collection id>` for each collection it may search (see apiTokenScopes.ts).
 */
export const API_TOKEN_SCOPES = ['chat', 'embeddings', 'models:manage', 'documents:*'] as const;
export type ApiTokenScope = (typeof API_TOKEN_SCOPES)[number];

// ---- Verifying replies ----

/** How a replay compared with the recorded output: the same tokens, a first difference, or no replay possible. */
export const REPLAY_OUTCOMES = ['identical', 'differs', 'not-replayable'] as const;
export type ReplayOutcome = (typeof REPLAY_OUTCOMES)[number];

/** What `hearth verify` and the Verify button check, in the order they run. */
export const VERIFY_CHECKS = ['format', 'signature', 'chain', 'transcript', 'model', 'replay', 'sources'] as const;
export type VerifyCheck = (typeof VERIFY_CHECKS)[number];

/** One check's result: passed, failed, passed with a caveat, or not run (and why). */
export const CHECK_STATUSES = ['pass', 'fail', 'warn', 'skipped'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];
