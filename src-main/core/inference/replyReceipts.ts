import type { Token } from 'node-llama-cpp';
import type { AnswerReceipt, MessageSources, ReceiptFields, ReceiptSigning } from '#contract/dto';
import { HearthError } from '../common/hearthError';
import type { Logger } from '../common/logger';
import type { ModelFileHashes } from '../models/modelFileHashes';
import { nodeLlamaCpp } from '../models/nodeLlamaCpp';
import {
  NO_PREVIOUS_RECEIPT,
  ZERO_BYTES32,
  buildReceipt,
  hexToBytes32,
  parseReceipt,
  signReceipt,
  textSha256,
  tokenIdsSha256,
  type ReceiptSigner,
} from '../receipts/receiptFormat';
import type { StoredReceipt, ThreadRepository } from '../storage/threadRepository';
import type { LoadedSession } from './llamaRuntime';

export interface ReplyReceiptsDeps {
  threads: ThreadRepository;
  hashes: Pick<ModelFileHashes, 'hash'>;
  /** The vault's wallet, through a port (inference never imports the vault). */
  signer: ReceiptSigner;
  /** The answerReceipts setting, read for each reply. */
  enabled: () => boolean;
  /** A document's sha256 (hex) as the library last read it, or null. */
  documentSha256: (docId: string) => string | null;
  hearthVersion: string;
  logger: Logger;
  /** Told when receipts of a thread were signed, so front ends read it again. */
  onThreadChanged: (threadId: string) => void;
}

/** What a finished reply tells the receipt: the exact tokens in and out, and the sampling used. */
export interface ReplyRecord {
  threadId: string;
  messageId: string;
  session: LoadedSession;
  sampling: ReceiptFields['sampling'];
  inputTokens: readonly Token[];
  outputTokens: readonly Token[];
  /** The tokens the reply's context sequence holds after it: the prompt must be their start. */
  evaluatedTokens: readonly Token[];
  text: string;
  stopReason: string;
  sources: MessageSources | null;
  /** The thread's latest receipt when it is not saved yet (a full disk); else read from SQLite. */
  previous: AnswerReceipt | null;
}

type ModelFacts = Pick<ReceiptFields, 'model' | 'runtime'>;

/**
 * Makes the answer receipt of each reply (when the setting is on and a wallet exists): signed by
 * the unlocked wallet, or unsigned while it is locked; signs unsigned ones later. What does not
 * change between replies (the model file's sha256, versions, the template's hash) is gathered
 * once per loaded model, starting when the model is first used.
 */
export class ReplyReceipts {
  private readonly facts = new WeakMap<LoadedSession, Promise<ModelFacts>>();
  /**
   * How long the last receipt took to make, in ms: reaching the wallet, hashing the tokens and
   * texts, the EIP-712 digest and the signature (the model file's hash is read once per model,
   * before: the first receipt of a model may wait for it, and is not what this measures): wall
   * time, and the CPU time the process spent meanwhile (what it costs on an otherwise idle machine).
   */
  lastCost = { wallMs: 0, cpuMs: 0 };

  constructor(private readonly deps: ReplyReceiptsDeps) {}

  /**
   * Starts gathering the model's facts (its file's sha256 above all) as soon as the model is
   * loaded or first used, so the first reply does not wait for them; only when receipts will be
   * made (the setting is on and a wallet exists), so nobody else pays for reading the file.
   */
  warm(session: LoadedSession): void {
    if (!this.deps.enabled()) return;
    this.deps.signer
      .current()
      .then((wallet) => (wallet === null ? undefined : this.factsOf(session)))
      .catch(() => undefined);
  }

  /** The receipt of a finished reply; null when receipts are off or there is no wallet. */
  async create(reply: ReplyRecord): Promise<AnswerReceipt | null> {
    if (!this.deps.enabled()) return null;
    let started = performance.now();
    const cpu = process.cpuUsage();
    const wallet = await this.deps.signer.current();
    if (wallet === null) return null;
    // Waiting for the model's facts (the first reply of a model, at most) is not the receipt's cost.
    const waitStart = performance.now();
    const facts = await this.factsOf(reply.session);
    started += performance.now() - waitStart;
    const context = reply.evaluatedTokens;
    if (context.length < reply.inputTokens.length || reply.inputTokens.some((token, i) => context[i] !== token)) {
      throw new HearthError('INTERNAL', 'The tokens the model evaluated are not the prompt Hearth built (the context was shifted); this reply gets no receipt.');
    }
    const fields: ReceiptFields = {
      threadId: reply.threadId,
      messageId: reply.messageId,
      previousReceipt: reply.previous?.hash ?? this.previousHash(reply.threadId, reply.messageId),
      createdAt: Date.now(),
      ...facts,
      sampling: reply.sampling,
      input: { tokensSha256: tokenIdsSha256(reply.inputTokens), tokenCount: reply.inputTokens.length },
      passages: (reply.sources?.citations ?? []).map((citation) => {
        const documentSha = this.deps.documentSha256(citation.docId);
        return {
          id: citation.wholeDocument ? citation.docId : citation.chunkId,
          documentSha256: documentSha ? hexToBytes32(documentSha) : ZERO_BYTES32,
          textSha256: textSha256(citation.text),
        };
      }),
      output: {
        tokensSha256: tokenIdsSha256(reply.outputTokens),
        tokenCount: reply.outputTokens.length,
        textSha256: textSha256(reply.text),
        stopReason: reply.stopReason,
      },
    };
    const receipt = buildReceipt(fields, wallet === 'locked' ? null : wallet);
    const used = process.cpuUsage(cpu);
    this.lastCost = { wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
    return receipt;
  }

  /** A message's receipt, checked (RECEIPT_INVALID when damaged); null when it has none. */
  read(messageId: string): AnswerReceipt | null {
    const stored = this.deps.threads.receipt(messageId);
    return stored ? this.parse(stored) : null;
  }

  /**
   * Signs the unsigned receipts of a thread (or of every thread) with the unlocked wallet. A
   * receipt is signed only when it is intact and its chain link names the receipt before it;
   * the others are refused, with why, and stay unsigned.
   */
  async signPending(threadId: string | null): Promise<ReceiptSigning> {
    const wallet = await this.deps.signer.current();
    if (wallet === null) throw new HearthError('VAULT_NOT_SET_UP', 'There is no wallet to sign receipts with: create one, or import your recovery phrase.');
    if (wallet === 'locked') throw new HearthError('VAULT_LOCKED', 'The vault is locked: unlock it to sign the receipts.');
    const result: ReceiptSigning = { signed: 0, refused: [] };
    const changed = new Set<string>();
    for (const stored of this.deps.threads.receipts(threadId)) {
      // The receipt before it in its chain (a regenerated reply's other versions are not in it).
      const expected = this.previousHash(stored.threadId, stored.messageId);
      let receipt: AnswerReceipt;
      try {
        receipt = this.parse(stored);
      } catch (error) {
        result.refused.push({ messageId: stored.messageId, reason: (error as Error).message });
        continue;
      }
      if (receipt.signature) continue;
      if (receipt.fields.previousReceipt !== expected) {
        result.refused.push({
          messageId: stored.messageId,
          reason: `Its chain link names ${receipt.fields.previousReceipt}, but the receipt before it in the chat is ${expected}: a reply was removed or changed.`,
        });
        continue;
      }
      this.deps.threads.setMessageReceipt(stored.messageId, signReceipt(receipt, wallet));
      result.signed++;
      changed.add(stored.threadId);
    }
    for (const id of changed) this.deps.onThreadChanged(id);
    return result;
  }

  private parse(stored: StoredReceipt): AnswerReceipt {
    const where = `message ${stored.messageId}`;
    let value: unknown;
    try {
      value = JSON.parse(stored.json);
    } catch {
      throw new HearthError('RECEIPT_INVALID', `The receipt in ${where} is not JSON.`);
    }
    const receipt = parseReceipt(value, where);
    if (receipt.fields.messageId !== stored.messageId || receipt.fields.threadId !== stored.threadId) {
      throw new HearthError('RECEIPT_INVALID', `The receipt in ${where} belongs to message ${receipt.fields.messageId} of chat ${receipt.fields.threadId}.`);
    }
    return receipt;
  }

  /** The hash the next receipt chains to: the stored hash of the thread's latest receipt before this message. */
  private previousHash(threadId: string, messageId: string): string {
    const stored = this.deps.threads.previousReceipt(threadId, messageId);
    return stored ? storedHash(stored) : NO_PREVIOUS_RECEIPT;
  }

  private factsOf(session: LoadedSession): Promise<ModelFacts> {
    let facts = this.facts.get(session);
    if (!facts) {
      facts = this.gather(session);
      this.facts.set(session, facts);
      // A failure (the file moved) is tried again at the next reply.
      facts.catch(() => this.facts.delete(session));
    }
    return facts;
  }

  private async gather(session: LoadedSession): Promise<ModelFacts> {
    const [file, nodeLlamaCppVersion] = await Promise.all([
      this.deps.hashes.hash(session.info.path),
      nodeLlamaCpp().then((lib) => lib.getModuleVersion()),
    ]);
    const metadata = session.model.fileInfo.metadata;
    const template = metadata.tokenizer?.chat_template;
    const release = session.model.llama.llamaCppRelease;
    return {
      model: {
        name: session.info.name,
        sha256: hexToBytes32(file.sha256),
        size: file.sizeBytes,
        architecture: session.architecture ?? String(metadata.general.architecture ?? ''),
        quantization: session.quantization ?? '',
      },
      runtime: {
        hearth: this.deps.hearthVersion,
        backend: session.info.backend.backend,
        nodeLlamaCpp: nodeLlamaCppVersion,
        llamaCpp: `${release.repo}@${release.release}`,
        contextSize: session.context.contextSize,
        batchSize: session.context.batchSize,
        threads: session.context.currentThreads,
        chatWrapper: session.chatWrapper.wrapperName,
        chatTemplateSha256: typeof template === 'string' && session.usesModelTemplate ? textSha256(template) : ZERO_BYTES32,
      },
    };
  }
}

/** The hash a stored receipt names, even when the rest of it is damaged (zeros when it names none). */
function storedHash(stored: StoredReceipt): string {
  try {
    const hash = (JSON.parse(stored.json) as { hash?: unknown }).hash;
    if (typeof hash === 'string' && /^0x[0-9a-f]{64}$/.test(hash)) return hash;
  } catch {
    // not JSON: falls through
  }
  return ZERO_BYTES32;
}
