/** Data transfer objects: plain JSON, the same over IPC, WebSocket and the CLI's --json. */

import type { ErrorData } from './errors';
import type {
  AppHost,
  DocumentFormatName,
  DocumentReasonCode,
  DocumentStatus,
  FitVerdict,
  GpuBackend,
  JobKind,
  JobStatus,
  MessageRole,
  MessageStatus,
  ReceiptStatus,
  ModelKind,
  ModelPurpose,
  ModelTier,
  NetworkPurpose,
  RetrievalMode,
  SearchMode,
  SecretKeeper,
  SourceKind,
  ThreadExportFormat,
  ThreadImportFormat,
  VaultState,
  VaultTargetKind,
} from './vocabulary';

// The closed lists' types, where the DTOs have always offered them.
export type {
  DocumentFormatName,
  DocumentReasonCode,
  DocumentStatus,
  FitVerdict,
  GpuBackend,
  JobKind,
  JobStatus,
  MessageRole,
  MessageStatus,
  ModelPurpose,
  ReceiptStatus,
  RetrievalMode,
  SearchMode,
  ThreadExportFormat,
  ThreadImportFormat,
  VaultTargetKind,
};

export interface BackendInfo {
  backend: GpuBackend;
  /** Human sentence: which backend and why, e.g. "CPU: no GPU found". */
  reason: string;
  /** True when the app runs on CPU although a GPU could be expected to help. */
  warning: boolean;
  gpuDevices: string[];
}

export interface ModelInfo {
  id: string;
  path: string;
  name: string;
  sizeBytes: number;
  architecture: string | null;
  contextLength: number | null;
  hasChatTemplate: boolean;
  /** What the model is for, from its metadata: chat/generation, embeddings or reranking. */
  kind: ModelKind;
  /** Parameter count, e.g. 494_032_768; null when the header does not allow counting. */
  parameters: number | null;
  /** The file's quantization, e.g. Q4_K_M or F16. */
  quantization: string | null;
  /** Layers to offload to the GPU; null lets node-llama-cpp choose what fits. */
  gpuLayers: number | null;
  /** True when the file lives in Hearth's models folder (downloaded or copied): deleting removes it. */
  managed: boolean;
  /** The purposes this model is the default for. */
  defaultFor: ModelPurpose[];
  addedAt: number;
  /** False when the file has gone missing since it was added. */
  present: boolean;
}

export interface LoadedModel {
  modelId: string;
  name: string;
  path: string;
  contextSize: number;
  gpuLayers: number;
  totalLayers: number;
  /** Which chat template formats prompts: the model's own or the general fallback. */
  chatTemplate: string;
  backend: BackendInfo;
  /** Set when a GPU is in use but not every layer is on it: how many are, and why. */
  gpuNote: string | null;
  /** Recent conversations kept evaluated (KV cache), and what they may cost. */
  warm: WarmCacheInfo;
}

/**
 * The loaded context's sequences: each keeps one recent conversation (a chat or an API
 * client's) evaluated, so returning to it evaluates only its new turn, and replies on
 * different sequences are generated at once.
 */
export interface WarmCacheInfo {
  /** How many sequences (conversations kept warm, replies at once); `contextSize` tokens each. */
  sequences: number;
  /** The KV cache's size in memory, all sequences together (llama.cpp's state size). */
  bytes: number;
  /** The memory the sequences were sized to fit: an eighth of RAM, at most 4 GiB. */
  budgetBytes: number;
  /** CPU threads inference runs on. */
  threads: number;
}

export type RuntimeState =
  | { state: 'idle'; backend: BackendInfo | null }
  | { state: 'loading'; modelId: string; name: string; progress: number; backend: BackendInfo | null }
  | { state: 'ready'; model: LoadedModel; generating: boolean }
  | { state: 'error'; modelId: string; error: ErrorData; backend: BackendInfo | null };

export interface ThreadSummary {
  id: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  messageCount: number;
}

export interface Message {
  id: string;
  threadId: string;
  role: MessageRole;
  content: string;
  status: MessageStatus;
  createdAt: number;
  /** The model that wrote an assistant message. */
  modelName: string | null;
  error: ErrorData | null;
  /** Assistant replies in a chat scoped to collections: what was retrieved and cited. */
  sources: MessageSources | null;
  /** Assistant replies: the answer receipt is signed by the vault's wallet, stored unsigned (sign it later), or there is none. */
  receipt: ReceiptStatus;
  /** A regenerated reply: every version of it (oldest first) and which one is shown; null when it has one version. */
  versions: MessageVersions | null;
}

/** The versions of a reply kept by regenerate: the chosen one is what later turns see. */
export interface MessageVersions {
  ids: string[];
  index: number;
}

/** A piece of a search hit's excerpt: hit is true for the words that matched. */
export interface SnippetPart {
  text: string;
  hit: boolean;
}

/** One message found by chat search. */
export interface ChatSearchHit {
  threadId: string;
  threadTitle: string;
  messageId: string;
  role: MessageRole;
  createdAt: number;
  snippet: SnippetPart[];
}

/** An exported chat (or every chat) as a file to save. */
export interface ThreadExport {
  fileName: string;
  mimeType: string;
  content: string;
}

/** What an import added. */
export interface ThreadImportResult {
  format: ThreadImportFormat;
  threads: ThreadSummary[];
}

export interface ContextUsage {
  /** Tokens the prompt plus reply occupied. */
  used: number;
  total: number;
  /** Messages left out of the model's context because the history did not fit. */
  droppedMessageIds: string[];
}

export interface Thread extends ThreadSummary {
  systemPrompt: string;
  /** Collections this chat answers from; empty for a plain chat. */
  collectionIds: string[];
  messages: Message[];
  context: ContextUsage | null;
}

export interface SendResult {
  userMessageId: string;
  assistantMessageId: string;
}

export type ChatStreamEvent =
  /** sources: what was retrieved for the reply in a chat scoped to collections, else null. */
  | { type: 'start'; threadId: string; messageId: string; context: ContextUsage; sources: MessageSources | null }
  /**
   * text is the next piece of the reply: one token's text, or several (a transport may merge them).
   * used: the context the prompt and the reply so far take, in tokens (a live context meter).
   */
  | { type: 'token'; threadId: string; messageId: string; text: string; used?: number }
  /**
   * saveError: set when the reply could not be saved (a full disk). It is kept in memory, shown
   * as it is, and saved as soon as a write succeeds again.
   */
  | { type: 'end'; threadId: string; message: Message; context: ContextUsage; tokensPerSecond: number; saveError?: ErrorData };

export interface JobBytes {
  done: number;
  total: number | null;
  perSecond: number | null;
  etaSeconds: number | null;
}

export interface JobInfo {
  id: string;
  kind: JobKind;
  title: string;
  status: JobStatus;
  /** 0..1, or null when the amount of work is unknown. */
  progress: number | null;
  detail: string | null;
  /** For jobs that move bytes (downloads): how many, how fast, how long to go. */
  bytes: JobBytes | null;
  error: ErrorData | null;
  createdAt: number;
  updatedAt: number;
}

export interface AppInfo {
  version: string;
  dataDir: string;
  /** 'desktop' when an Electron shell hosts the UI, 'server' for the headless server. */
  host: AppHost;
  canPickFiles: boolean;
  /** Whether this Hearth can switch to another data folder while it runs (app.switchDataDir). */
  canSwitchDataDir: boolean;
  limits: { maxMessageChars: number };
}

/** How a reply is sampled: the saved defaults, a thread's overrides, a preset's values. */
export interface GenerationParams {
  temperature: number;
  /** Nucleus sampling: only the most likely tokens whose probabilities add up to this. */
  topP: number;
  /** Only the K most likely tokens; 0 turns the limit off. */
  topK: number;
  /** Divides a recently used token's probability; 1 turns it off. */
  repeatPenalty: number;
  maxReplyTokens: number;
}

/** A named system prompt with sampling values, applied to a chat in one step. */
export interface GenerationPreset {
  id: string;
  name: string;
  systemPrompt: string;
  /** Only the values the preset sets; the rest follow the saved defaults. */
  params: Partial<GenerationParams>;
}

/** What one chat sets for itself (null: it follows the saved defaults) and what it gets. */
export interface ThreadGeneration {
  threadId: string;
  overrides: Partial<GenerationParams> | null;
  effective: GenerationParams;
}

export interface Settings extends GenerationParams {
  contextSize: number | null;
  /** Unload the model after this many minutes without use; 0 keeps it loaded. */
  idleUnloadMinutes: number;
  /** Hugging Face (or a mirror) base URL for search and downloads. */
  hubEndpoint: string;
  /** Make a signed answer receipt for every reply (it takes effect once a wallet exists). */
  answerReceipts: boolean;
  /** Read scanned PDF pages and PNG/JPEG images by OCR (English, on this machine); off by default, as it takes seconds a page. */
  ocr: boolean;
  /** Desktop app: serve the local API (OpenAI/Anthropic-compatible, MCP) on 127.0.0.1. `hearth serve` always does. */
  localApi: boolean;
  presets: GenerationPreset[];
  /** Also serve the API and MCP (API tokens only) to other devices on the network; needs an API token. */
  localApiLan: boolean;
}

export interface CatalogFile {
  quantization: string;
  file: string;
  sizeBytes: number;
  /** As published by the hub for the file; null where not pinned (then the hub's value is used at download). */
  sha256: string | null;
}

export interface CatalogEntry {
  id: string;
  name: string;
  family: string;
  parameters: string;
  purpose: ModelPurpose;
  /** Size tier, for grouping: tiny (< 1B), small (1-4B), medium (7-9B). */
  tier: ModelTier;
  repo: string;
  license: string;
  contextLength: number;
  description: string;
  recommendedQuantization: string;
  files: CatalogFile[];
}

export interface HubModelSummary {
  repo: string;
  downloads: number;
  likes: number;
  gated: boolean;
  updatedAt: string | null;
}

export interface HubFile {
  file: string;
  sizeBytes: number | null;
  sha256: string | null;
  /** Parsed from the file name, e.g. Q4_K_M; null when it does not say. */
  quantization: string | null;
}

export interface FitResult {
  verdict: FitVerdict;
  /** "Fits on GPU", "Partly offloaded (20 of 33 layers)", "CPU only", "Won't fit". */
  label: string;
  gpuLayers: number;
  totalLayers: number;
  /** The context size this configuration allows, or null when it won't fit at all. */
  contextSize: number | null;
  /** Why, in a sentence (e.g. which resource runs out). */
  reason: string;
}

export interface HardwareInfo {
  cpuModel: string;
  cpuCores: number;
  ramBytes: number;
  freeRamBytes: number;
  backend: BackendInfo;
  vramBytes: number;
  freeVramBytes: number;
}

/** Where a model comes from when pulling it. */
export type ModelSource =
  | { kind: 'catalog'; id: string; quantization?: string }
  | { kind: 'hub'; repo: string; file: string; revision?: string }
  | { kind: 'url'; url: string; sha256?: string };

// ---- Your documents: collections, sources, documents, search, citations ----

export interface Collection {
  id: string;
  name: string;
  createdAt: number;
  sourceCount: number;
  documentCount: number;
  chunkCount: number;
}

export interface DocumentCounts {
  pending: number;
  indexed: number;
  skipped: number;
  failed: number;
}

/** A folder or a single file added to a collection. */
export interface Source {
  id: string;
  collectionId: string;
  path: string;
  kind: SourceKind;
  addedAt: number;
  lastScanAt: number | null;
  /** Folders are watched for changes while Hearth runs. */
  watching: boolean;
  counts: DocumentCounts;
}

export interface DocumentInfo {
  id: string;
  sourceId: string;
  collectionId: string;
  path: string;
  format: DocumentFormatName | null;
  sizeBytes: number;
  status: DocumentStatus;
  /** Why it was skipped or failed, in a sentence; null when indexed or pending. */
  reason: string | null;
  /** A stable code for the reason (DOCUMENT_REASON_CODES). */
  reasonCode: DocumentReasonCode | null;
  chunkCount: number;
  title: string | null;
  pageCount: number | null;
  updatedAt: number;
}

export interface ChunkLocation {
  pageStart: number | null;
  pageEnd: number | null;
  lineStart: number | null;
  lineEnd: number | null;
}

/** One retrieved passage. */
export interface SearchHit {
  chunkId: string;
  docId: string;
  collectionId: string;
  path: string;
  title: string | null;
  format: DocumentFormatName;
  /** Headings above the passage, outermost first. */
  heading: string[];
  location: ChunkLocation;
  text: string;
  /** Fused score (weighted reciprocal rank fusion), or the single ranking's score; higher is better. */
  score: number;
  /**
   * The score as a share of the best this search could give (first in every list that counts):
   * 1 at the top, toward 0 further down; 0 for a passage read by id. A cue for people (e.g.
   * bands at 0.75 and 0.4), not a probability.
   */
  relevance: number;
  /** 1-based rank in the full-text (BM25) list, null when it was not there. */
  bm25Rank: number | null;
  /** 1-based rank in the vector list, null when it was not there. */
  vectorRank: number | null;
  /** Cosine similarity to the query, when known. */
  similarity: number | null;
  /** The reranker's relevance 0..1, when reranking ran. */
  rerankScore: number | null;
  /** How the search ran: 'full-text' while there is no embedding model (or when asked); null for a passage read by id. */
  mode: RetrievalMode | null;
}

export interface EmbeddingIndexInfo {
  modelId: string;
  modelName: string;
  dimension: number;
}

export interface IndexStatus {
  /** The index searches use now; null before anything was indexed. */
  active: EmbeddingIndexInfo | null;
  /** The default embedding model: when it differs from active, a re-embed job is (or must be) under way. */
  target: EmbeddingIndexInfo | null;
  /** Why indexing cannot run now (e.g. the index folder went missing), or null. */
  blocker: ErrorData | null;
  /** How searches run now: 'hybrid', or 'full-text' while no embedding model has embedded the documents. */
  mode: RetrievalMode;
  documents: DocumentCounts;
  chunks: number;
  /**
   * Passages of the index searches use that are still waiting for their vectors: after a run
   * was paused or cancelled mid-embedding (they are found by full text meanwhile), or all of them
   * while a full-text-only index waits for the embedding model just set. 0 once the embedding
   * pass has filled them, and 0 without an embedding model (full text is then the plan).
   */
  vectorsPending: number;
  /** Folders being watched. */
  watching: number;
  /** The running or paused indexing job, if any. */
  job: JobInfo | null;
}

/** A source cited in a reply, numbered as the reply cites it: [1], [2], ... */
export interface Citation {
  n: number;
  chunkId: string;
  docId: string;
  path: string;
  title: string | null;
  heading: string[];
  location: ChunkLocation;
  /** The exact passage given to the model. */
  text: string;
  /** True when the whole document was given rather than a passage. */
  wholeDocument: boolean;
}

export interface MessageSources {
  collectionIds: string[];
  citations: Citation[];
  /** Tokens of retrieved text given to the model, and the budget it had to fit. */
  budget: { used: number; total: number };
  /** Said plainly when nothing relevant was found, or retrieval could not run. */
  note: string | null;
  /** How the passages were found ('full-text' without an embedding model); null when nothing was searched. */
  mode?: RetrievalMode | null;
}

// --- Vault: wallet identity, encrypted snapshots, publish targets, restore ---

export interface VaultTarget {
  id: string;
  kind: VaultTargetKind;
  name: string;
  /** A folder path, an IPFS node's RPC URL, or a web3.storage space DID. */
  location: string;
  /** Whether the target keeps a "latest snapshot" record a new machine can find from the phrase alone. */
  keepsPointer: boolean;
  createdAt: number;
}

export interface VaultSchedule {
  /** Hours between automatic snapshots; null: manual only. */
  intervalHours: number | null;
  /** Where automatic snapshots are published; null: kept on this machine only. */
  targetId: string | null;
  /** How many snapshots this machine keeps (older ones are forgotten and their unshared blocks deleted). */
  keep: number;
  includeModels: boolean;
  includeDocuments: boolean;
  /**
   * Keep the sealed blocks of models in vault/blocks once a target holds them. Off: they are
   * deleted from this machine after each publish (the models themselves stay) and fetched from
   * that target when needed (a restore, publishing them elsewhere).
   */
  keepModelBlocks: boolean;
}

export interface VaultPublication {
  targetId: string;
  targetName: string;
  kind: VaultTargetKind;
  location: string;
  /** Size of the CAR sent: only the blocks that target did not have yet. */
  carBytes: number;
  publishedAt: number;
}

export interface VaultSnapshot {
  /** The root CID: the snapshot's name everywhere. */
  cid: string;
  createdAt: number;
  previous: string | null;
  files: number;
  /** Plaintext bytes captured. */
  bytes: number;
  /** Encrypted bytes of every block the snapshot references. */
  storedBytes: number;
  /** Encrypted bytes this snapshot added (blocks no earlier snapshot had). */
  newBytes: number;
  /**
   * Plaintext bytes read from disk to take it: files unchanged since the previous snapshot
   * (size, mtime, inode, ctime) are skipped, so this follows the change, not the data.
   */
  readBytes: number;
  includeModels: boolean;
  includeDocuments: boolean;
  publications: VaultPublication[];
}

export interface VaultStatus {
  /** none: no wallet yet; locked: a keystore, passphrase needed; unlocked: ready to snapshot. */
  state: VaultState;
  address: string | null;
  /** The passphrase is kept in the host's secret store, so the vault unlocks at start. */
  remembered: boolean;
  /**
   * Where "remember" keeps the passphrase on this host: the OS keychain, or (no keychain here)
   * the data directory, where anyone who can copy the directory can recover it.
   */
  rememberKeptIn: SecretKeeper;
  schedule: VaultSchedule;
  /** When the scheduler will next snapshot, or null. */
  nextSnapshotAt: number | null;
  lastSnapshot: VaultSnapshot | null;
}

export interface VaultCreated {
  address: string;
  /** The 12-word recovery phrase: shown once, here, to write down. */
  phrase: string;
}

// ---- Answer receipts: what produced a reply, signed by the vault's wallet ----

/**
 * The signed part of an answer receipt: the EIP-712 message (src-main/core/receipts/receiptFormat.ts
 * has its types and encodings). Hashes are bytes32 hex (`0x` + 64 digits); real numbers are
 * canonical decimal strings.
 */
export interface ReceiptFields {
  threadId: string;
  messageId: string;
  /** The hash of the previous receipt in the same thread; all zeros for the first. */
  previousReceipt: string;
  /** When the reply finished, ms since the epoch. */
  createdAt: number;
  model: { name: string; sha256: string; size: number; architecture: string; quantization: string };
  runtime: {
    /** Hearth's version. */
    hearth: string;
    /** cpu, cuda, vulkan or metal. */
    backend: string;
    nodeLlamaCpp: string;
    /** The llama.cpp release node-llama-cpp's binaries were built from. */
    llamaCpp: string;
    contextSize: number;
    batchSize: number;
    threads: number;
    /** The chat wrapper that formatted the prompt, and the sha256 of the model's chat template (zeros: none). */
    chatWrapper: string;
    chatTemplateSha256: string;
  };
  sampling: {
    temperature: string;
    topP: string;
    topK: number;
    minP: string;
    seed: number;
    maxTokens: number;
    repeatPenalty: string;
    frequencyPenalty: string;
    presencePenalty: string;
    /** How many recent tokens the penalties look at, and whether a newline counts among them. */
    penaltyLastTokens: number;
    penalizeNewLine: boolean;
  };
  /** The exact token sequence given to the model: sha256 of its ids (uint32 little-endian each), and how many. */
  input: { tokensSha256: string; tokenCount: number };
  /**
   * Retrieved passages in prompt order: the chunk id (the document id when the whole document
   * was given), the document file's sha256 when it was indexed (zeros: unknown), the passage text's sha256.
   */
  passages: { id: string; documentSha256: string; textSha256: string }[];
  output: { tokensSha256: string; tokenCount: number; textSha256: string; stopReason: string };
}

/** A receipt as stored with its message and written to files. signer and signature are null until signed. */
export interface AnswerReceipt {
  domain: { name: string; version: string };
  fields: ReceiptFields;
  /** The EIP-712 digest of the fields. */
  hash: string;
  signer: string | null;
  signature: string | null;
}

/** What receipts.sign did: how many receipts it signed, and which it would not sign, with why. */
export interface ReceiptSigning {
  signed: number;
  refused: { messageId: string; reason: string }[];
}

/** One outbound HTTP request, as the network ledger recorded it when it ended. */
export interface NetworkRequest {
  id: number;
  /** When the request started (ms since the epoch). */
  at: number;
  /** host[:port] the request went to. */
  host: string;
  /** The host is this machine (localhost, 127.0.0.0/8, ::1): nothing left it. */
  local: boolean;
  purpose: NetworkPurpose;
  method: string;
  /** The HTTP status, or null when no answer came (refused, reset, timed out, cancelled). */
  status: number | null;
  /** HTTP bytes sent: request line, headers and body (TLS framing not counted). */
  bytesOut: number;
  /** HTTP bytes received: status line, headers and body as they came (compressed, if so). */
  bytesIn: number;
  durationMs: number;
  /** Why no answer came, when none did. */
  error: string | null;
}

/** Everything recorded for one host and purpose since the ledger began (never pruned). */
export interface NetworkHostTotal {
  host: string;
  local: boolean;
  purpose: NetworkPurpose;
  requests: number;
  bytesOut: number;
  bytesIn: number;
  firstAt: number;
  lastAt: number;
}

export interface NetworkLedgerView {
  /** When this data directory's ledger began: the totals count from here. */
  since: number;
  /** Requests to other machines since then: zero requests means nothing has left this machine. */
  remote: { requests: number; bytesOut: number; bytesIn: number };
  hosts: NetworkHostTotal[];
  /** The newest requests first; older ones are pruned (see retention), their totals kept. */
  requests: NetworkRequest[];
  retention: { maxRequests: number; maxAgeDays: number };
}

/** An API token as listed: never the token itself, which is shown once, at creation. */
export interface ApiToken {
  id: string;
  name: string;
  /** `chat`, `embeddings`, `models:manage`, `documents:*` or `documents:<collection id>`. */
  scopes: string[];
  createdAt: number;
  /** Null: never expires. */
  expiresAt: number | null;
  /** Null: never used. Updated at most once a minute. */
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** What creating a token returns: the record, and the secret to copy now (it is not stored). */
export interface ApiTokenCreated {
  token: ApiToken;
  secret: string;
}
