import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import type { DocumentStatus } from '#contract/dto';
import type { DocumentReasonCode } from '#contract/vocabulary';
import { HearthError } from '../common/hearthError';
import { openRegularFile } from '../common/regularFile';
import type { ChunkRow, ChunkStore } from '../search/chunkStore';
import type { DocumentRow, LibraryRepository } from '../storage/libraryRepository';
import type { TargetIndex } from './activeIndex';
import { chunkDocument } from './chunker';
import { scanSource } from './folderScanner';
import type { LibraryOptions } from './libraryOptions';
import type { DocumentParser } from './parse/documentParser';
import { formatFor } from './parse/detectFormat';
import { DocumentProblem, SKIP_CODES, type Chunk } from './types';

/** One document's result, held until it is committed. */
export interface Processed {
  doc: DocumentRow;
  contentHash: string | null;
  rows: ChunkRow[];
  outcome:
    | { status: 'indexed'; title: string | null; pageCount: number | null; note: string | null }
    | { status: Extract<DocumentStatus, 'skipped' | 'failed'>; code: DocumentReasonCode; message: string };
}

/**
 * Brings the documents table in line with what is on disk under one source: new and changed
 * files become pending. Returns the documents whose files are gone, for the caller to drop, or
 * null when the source itself is gone.
 */
export async function scanForChanges(repo: LibraryRepository, sourceId: string, signal: AbortSignal): Promise<DocumentRow[] | null> {
  const source = repo.source(sourceId);
  if (!source) return null;
  const { files, problems } = await scanSource(source.path, source.kind, signal);
  const known = new Map(repo.documents({ sourceId }).map((d) => [d.path, d]));
  const seen = new Set<string>();
  for (const file of files) {
    seen.add(file.path);
    const doc = known.get(file.path);
    if (doc && doc.sizeBytes === file.sizeBytes && doc.mtimeMs === file.mtimeMs && doc.status !== 'pending') continue;
    if (doc && doc.status !== 'pending' && doc.sizeBytes === file.sizeBytes && doc.contentHash !== null) {
      // Same size, new time stamp: read it to see whether the bytes really changed.
      const hash = await hashFile(file.path).catch(() => null);
      if (hash === doc.contentHash) {
        repo.touch(doc.id, file.sizeBytes, file.mtimeMs);
        continue;
      }
    }
    const format = formatFor(file.path);
    const row = repo.upsertSeen({ sourceId, path: file.path, format, sizeBytes: file.sizeBytes, mtimeMs: file.mtimeMs });
    if (!format) {
      const ext = extname(file.path) || 'without an extension';
      repo.markProblem(row.id, 'skipped', { code: 'UNSUPPORTED', message: `Hearth does not read ${ext} files` }, null);
    }
  }
  for (const problem of problems) {
    seen.add(problem.path);
    const row = repo.upsertSeen({ sourceId, path: problem.path, format: null, sizeBytes: 0, mtimeMs: 0 });
    repo.markProblem(row.id, problem.code === 'UNREADABLE' ? 'failed' : 'skipped', problem, null);
  }
  repo.markScanned(sourceId);
  return [...known.values()].filter((d) => !seen.has(d.path));
}

export interface ProcessContext {
  parser: DocumentParser;
  options: Pick<LibraryOptions, 'chunkTokens' | 'overlapTokens'>;
  target: TargetIndex;
  countTokens: (text: string) => number;
  store: ChunkStore;
  signal: AbortSignal;
}

/**
 * Parses and chunks one document into the rows for its index, without embedding: the rows are
 * searchable by full text once written, and vectors follow (embedPending.ts). Chunk texts already
 * embedded in the table (an unchanged passage, a renamed file) take their stored vectors at once.
 * A problem with the file is an outcome; a broken index throws.
 */
export async function parseDocument(doc: DocumentRow, context: ProcessContext): Promise<Processed> {
  const { options, target, countTokens, store, signal } = context;
  let contentHash: string | null = null;
  try {
    contentHash = await hashFile(doc.path);
    const parsed = await context.parser.parse(doc.path, { signal });
    const maxTokens = Math.max(32, Math.min(options.chunkTokens, target.contextSize - 64));
    const chunks = chunkDocument(parsed, {
      maxTokens,
      overlapTokens: Math.min(options.overlapTokens, Math.floor(maxTokens / 4)),
      countTokens,
    });
    if (chunks.length === 0) throw new DocumentProblem('EMPTY', 'no text to index');
    const hashes = chunks.map((chunk) => sha256(embeddingInput(parsed.title, chunk, countTokens, target.contextSize)));
    const reused = target.modelId ? await store.vectorsByTextHash(target.key, hashes) : new Map<string, Float32Array>();
    const format = parsed.format;
    const rows: ChunkRow[] = chunks.map((chunk, i) => ({
      id: `${doc.id}:${chunk.ordinal}`,
      docId: doc.id,
      sourceId: doc.sourceId,
      collectionId: doc.collectionId,
      path: doc.path,
      format,
      title: parsed.title,
      heading: chunk.headingPath.join(' › '),
      ordinal: chunk.ordinal,
      pageStart: chunk.pageStart,
      pageEnd: chunk.pageEnd,
      lineStart: chunk.lineStart,
      lineEnd: chunk.lineEnd,
      text: chunk.text,
      textHash: hashes[i]!,
      tokenCount: chunk.tokenCount,
      vector: reused.get(hashes[i]!) ?? null,
    }));
    const note = parsed.warnings.length > 0 ? parsed.warnings.join('; ') : null;
    return { doc, contentHash, rows, outcome: { status: 'indexed', title: parsed.title, pageCount: parsed.pageCount ?? null, note } };
  } catch (error) {
    signal.throwIfAborted();
    if (error instanceof DocumentProblem) {
      const status = SKIP_CODES.includes(error.code) ? 'skipped' : 'failed';
      return { doc, contentHash, rows: [], outcome: { status, code: error.code, message: error.message } };
    }
    if (error instanceof HearthError) throw error; // the index broke: the job fails, nothing finished is lost
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return { doc, contentHash, rows: [], outcome: { status: 'failed', code: 'UNREADABLE', message: 'the file disappeared while indexing' } };
    if (e.code) return { doc, contentHash, rows: [], outcome: { status: 'failed', code: 'UNREADABLE', message: `cannot read it: ${e.code}` } };
    throw error;
  }
}

/**
 * An indexed, unchanged document moves to a new model's table without being read again: its
 * chunks are copied from the table in use, without vectors (the new model embeds them). Null
 * when the old table does not hold every chunk (it is parsed instead).
 */
export async function copyDocument(doc: DocumentRow, from: string, context: ProcessContext): Promise<Processed | null> {
  if (doc.status !== 'indexed' || doc.contentHash === null || doc.indexKey !== from) return null;
  const stored = await context.store.docChunks(from, doc.id);
  if (stored.length === 0 || stored.length !== doc.chunkCount) return null;
  const reused = context.target.modelId ? await context.store.vectorsByTextHash(context.target.key, stored.map((r) => r.textHash)) : new Map<string, Float32Array>();
  const rows: ChunkRow[] = stored.map((row) => ({ ...row, vector: reused.get(row.textHash) ?? null }));
  const title = stored[0]?.title ?? doc.title;
  return { doc, contentHash: doc.contentHash, rows, outcome: { status: 'indexed', title, pageCount: doc.pageCount, note: doc.reason } };
}

/**
 * What gets embedded: the document title and heading path give a passage its context (a
 * paragraph under "Installation › Linux" is about installing on Linux). Cut to fit the model.
 */
export function embeddingInput(
  title: string | null,
  chunk: Pick<Chunk, 'headingPath' | 'text'>,
  countTokens: (text: string) => number,
  contextSize: number,
): string {
  const context = [title, ...chunk.headingPath].filter((part): part is string => !!part).join(' › ');
  const full = context ? `${context}\n\n${chunk.text}` : chunk.text;
  const limit = contextSize - 8;
  if (countTokens(full) <= limit) return full;
  if (countTokens(chunk.text) <= limit) return chunk.text;
  // A chunk is sized to fit; this guards tokenizers that count differently in context.
  let text = chunk.text;
  while (text.length > 16 && countTokens(text) > limit) text = text.slice(0, Math.floor(text.length * 0.9));
  return text;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The file's sha256, read from a handle checked to be a regular file (a FIFO swapped in is refused, never read). */
async function hashFile(path: string): Promise<string> {
  const handle = await openRegularFile(path).catch((error: unknown) => {
    // The file, not the index, is at fault: this document is reported, the job goes on.
    if (error instanceof HearthError) throw new DocumentProblem(error.code === 'NOT_A_REGULAR_FILE' ? 'UNSUPPORTED' : 'UNREADABLE', error.message);
    throw error;
  });
  const hash = createHash('sha256');
  for await (const chunk of handle.createReadStream()) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
