import { basename } from 'node:path';
import type { AnswerReceipt, Message } from '#contract/dto';
import type { ProofBundle, ProofTranscript } from '#contract/verify';
import { HearthError } from '../common/hearthError';
import type { ReplayEngine } from '../inference/replayEngine';
import { tokenIdsSha256 } from '../receipts/receiptFormat';
import { historyOf, PROOF_BUNDLE_FORMAT } from './proofBundle';

export interface ProofExporterDeps {
  /** A message's receipt, checked (RECEIPT_INVALID when damaged); null when it has none. */
  receipt(messageId: string): AnswerReceipt | null;
  /** The message ids of the receipts in a reply's chain, in order, ending with its own. */
  receiptIds(threadId: string, messageId: string): string[];
  message(messageId: string): Message | undefined;
  /** With replyId, the chat as that reply saw it (a version of a reply not shown now in its place). */
  thread(threadId: string, replyId?: string): { systemPrompt: string; messages: Message[] };
  replay: () => ReplayEngine;
  /** A model file of this library with this sha256 (hex) and size, or null. */
  findModel: (sha256: string, size: number) => Promise<string | null>;
}

/**
 * Builds a reply's proof bundle from this library: its receipt, the chat's receipts up to it
 * (the chain), and, only when the user asks for it, the transcript: the system prompt, the
 * passages, the earlier turns the model was given, the question and the answer.
 */
export class ProofExporter {
  constructor(private readonly deps: ProofExporterDeps) {}

  async export(messageId: string, withTranscript: boolean): Promise<ProofBundle> {
    const message = this.deps.message(messageId);
    if (!message) throw new HearthError('MESSAGE_NOT_FOUND', `No message ${messageId}.`);
    const receipt = this.deps.receipt(messageId);
    if (!receipt) throw new HearthError('NOT_FOUND', 'This reply has no receipt (receipts are made once a wallet exists, with the setting on).');
    const ids = this.deps.receiptIds(message.threadId, messageId);
    const chain: AnswerReceipt[] = [];
    for (const id of ids.slice(0, ids.indexOf(messageId) + 1)) {
      const link = this.deps.receipt(id);
      if (link) chain.push(link);
    }
    return {
      format: PROOF_BUNDLE_FORMAT,
      version: 1,
      receipt,
      chain,
      transcript: withTranscript ? await this.transcript(message, receipt) : null,
    };
  }

  /**
   * The transcript of a reply. Older turns the chat left out for room are not in the receipt,
   * so, as the chat did, the oldest turns are dropped until the rebuilt prompt gives the
   * recorded input tokens (when the model file is here to count them).
   */
  private async transcript(reply: Message, receipt: AnswerReceipt): Promise<ProofTranscript> {
    const thread = this.deps.thread(reply.threadId, reply.id);
    const index = thread.messages.findIndex((m) => m.id === reply.id);
    const earlier = thread.messages.slice(0, index).filter((m) => (m.role === 'assistant' ? m.content.length > 0 : true));
    const question = earlier.at(-1);
    if (!question || question.role !== 'user') throw new HearthError('BAD_INPUT', 'This reply answers no question, so it has no transcript.');
    const citations = reply.sources?.citations ?? [];
    const base: Omit<ProofTranscript, 'history'> = {
      systemPrompt: thread.systemPrompt,
      scoped: reply.sources !== null,
      passages: citations.map((c) => ({
        n: c.n,
        chunkId: c.chunkId,
        docId: c.docId,
        fileName: basename(c.path),
        title: c.title,
        heading: c.heading,
        location: c.location,
        wholeDocument: c.wholeDocument,
        text: c.text,
      })),
      question: question.content,
      answer: reply.content,
    };
    let turns = earlier.slice(0, -1).map((m) => ({ role: m.role, text: m.content }));
    const modelPath = await this.deps.findModel(receipt.fields.model.sha256.replace(/^0x/, ''), receipt.fields.model.size);
    if (!modelPath) return { ...base, history: turns };
    for (;;) {
      const transcript = { ...base, history: turns };
      const rendered = await this.deps.replay().render(modelPath, historyOf(transcript));
      if (tokenIdsSha256(rendered.tokens) === receipt.fields.input.tokensSha256 || turns.length === 0) return transcript;
      // Drop the oldest turn, a question with its answer, as the chat's fitHistory does.
      turns = turns.slice(turns[0]!.role === 'user' && turns[1]?.role === 'assistant' ? 2 : 1);
    }
  }
}
