import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import type { AnswerReceipt, Message } from '#contract/dto';
import type { ProofBundle, TranscriptPassage, VerifyReport } from '#contract/verify';
import type { CheckStatus } from '#contract/vocabulary';
import type { Logger } from '../common/logger';
import { ReplayEngine } from '../inference/replayEngine';
import { ZERO_BYTES32, textSha256 } from '../receipts/receiptFormat';
import { parseVerifyInput } from './proofBundle';
import { ProofExporter } from './proofExporter';
import { VerifyService, type PassageChecker } from './verifyService';

/** What verification needs from the rest of the core, as functions (this folder imports no library or vault). */
export interface VerificationDeps {
  logger: Logger;
  threads: number | null;
  receipt(messageId: string): AnswerReceipt | null;
  receiptIds(threadId: string, messageId: string): string[];
  message(messageId: string): Message | undefined;
  /** With replyId, the chat as that reply saw it (a version of a reply not shown now in its place). */
  thread(threadId: string, replyId?: string): { systemPrompt: string; messages: Message[] };
  /** sha256 (hex) and size of a file, cached for model files. */
  hashFile(path: string): Promise<{ sha256: string; sizeBytes: number }>;
  /** Paths of the library's model files that exist. */
  modelPaths(): Promise<string[]>;
  /** The vault's wallet address, or null when there is no wallet. */
  vaultAddress(): Promise<string | null>;
  documents: {
    /** A document of this library: its file and its sha256 when indexed. */
    get(docId: string): { path: string; contentHash: string | null } | null;
    /** A passage's indexed text; null when it is no longer indexed. */
    chunkText(chunkId: string): Promise<string | null>;
    /** A whole document's indexed text; null when it is no longer indexed. */
    documentText(docId: string): Promise<string | null>;
    /** The sha256 (hex) of the file as it is now; null when it is gone. */
    fileSha256(path: string): Promise<string | null>;
  };
}

/**
 * Proof bundles and verification for every front end: export a reply's bundle, verify a reply
 * of this library (the Verify button), verify a file (`hearth verify`). Replays run on a CPU
 * replay engine started on first use.
 */
export class Verification {
  private engine: ReplayEngine | null = null;
  private readonly exporter: ProofExporter;
  private readonly service: VerifyService;

  constructor(private readonly deps: VerificationDeps) {
    const replay = () => (this.engine ??= new ReplayEngine({ logger: deps.logger, threads: deps.threads }));
    const findModel = (sha256: string, size: number) => this.findModel(sha256, size);
    this.exporter = new ProofExporter({ ...deps, replay, findModel });
    this.service = new VerifyService({
      replay,
      maxThreads: () => deps.threads ?? Math.max(1, Math.floor(availableParallelism() / 2)),
      hashFile: deps.hashFile,
      findModel,
      sources: new LibraryPassages(deps.documents),
    });
  }

  /** A reply's proof bundle; the transcript only when asked for. */
  exportBundle(messageId: string, transcript: boolean): Promise<ProofBundle> {
    return this.exporter.export(messageId, transcript);
  }

  /** Verifies a reply of this library: its signature against this vault's wallet, with the library's model and documents. */
  async verifyMessage(messageId: string, signal?: AbortSignal): Promise<VerifyReport> {
    const bundle = await this.exporter.export(messageId, true);
    const address = await this.deps.vaultAddress();
    return this.service.verify({ kind: 'bundle', bundle }, { expected: address ? { address, whose: "this vault's wallet" } : null, signal });
  }

  /** Verifies a file's JSON (a bundle or a receipt): RECEIPT_INVALID when it is neither or a field was changed. */
  async verifyFile(value: unknown, where: string, options: { modelPath?: string; address?: string; signal?: AbortSignal } = {}): Promise<VerifyReport> {
    const input = parseVerifyInput(value, where);
    return this.service.verify(input, {
      ...(options.modelPath ? { modelPath: options.modelPath } : {}),
      expected: options.address ? { address: options.address, whose: 'the address given' } : null,
      signal: options.signal,
    });
  }

  async dispose(): Promise<void> {
    await this.engine?.dispose();
    this.engine = null;
  }

  /** Only files of the right size are hashed (once: the hashes are cached), so other models are never read. */
  private async findModel(sha256: string, size: number): Promise<string | null> {
    for (const path of await this.deps.modelPaths()) {
      const bytes = await stat(path).then((info) => info.size, () => -1);
      if (bytes !== size) continue;
      const file = await this.deps.hashFile(path).catch(() => null);
      if (file?.sha256 === sha256) return path;
    }
    return null;
  }
}

/** The sources check against this library: the passage's indexed text, and its file as it is now. */
class LibraryPassages implements PassageChecker {
  constructor(private readonly documents: VerificationDeps['documents']) {}

  async check(passage: TranscriptPassage, named: { documentSha256: string; textSha256: string }): Promise<{ status: CheckStatus; message: string }> {
    const label = `Passage [${passage.n}] (${passage.fileName})`;
    const doc = this.documents.get(passage.docId);
    if (!doc) return { status: 'skipped', message: `${label}: its document is not in this library.` };
    const text = passage.wholeDocument ? await this.documents.documentText(passage.docId) : await this.documents.chunkText(passage.chunkId);
    if (text === null) return { status: 'fail', message: `${label} is no longer in the index.` };
    if (textSha256(text) !== named.textSha256) return { status: 'fail', message: `${label}: the indexed text is no longer the passage the model was given.` };
    if (named.documentSha256 === ZERO_BYTES32) return { status: 'pass', message: `${label} matches the index (its file's hash was not recorded).` };
    const now = await this.documents.fileSha256(doc.path);
    if (now === null) return { status: 'fail', message: `${label}: ${basename(doc.path)} is gone.` };
    if (`0x${now}` !== named.documentSha256) return { status: 'fail', message: `${label}: ${basename(doc.path)} has changed since the reply.` };
    return { status: 'pass', message: `${label} matches the index and the file.` };
  }
}
