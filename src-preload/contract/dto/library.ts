/** Your documents: collections, sources, documents, search, citations. */

import type { ErrorData } from '../errors';
import type { DocumentFormatName, DocumentReasonCode, DocumentStatus, RetrievalMode, SourceKind } from '../vocabulary';
import type { JobInfo } from './jobs';

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
