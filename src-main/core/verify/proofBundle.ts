import type { ChatHistoryItem } from 'node-llama-cpp';
import { z } from 'zod';
import type { AnswerReceipt } from '#contract/dto';
import type { ProofBundle, ProofTranscript } from '#contract/verify';
import { MESSAGE_ROLES } from '#contract/vocabulary';
import { HearthError } from '../common/hearthError';
import { sourcePromptFor } from '../inference/sourceContext';
import { answerReceiptSchema, parseReceipt } from '../receipts/receiptFormat';

export const PROOF_BUNDLE_FORMAT = 'hearth-proof-bundle';

const line = z.number().int().min(0).nullable();
const transcriptSchema = z.strictObject({
  systemPrompt: z.string(),
  scoped: z.boolean(),
  passages: z.array(
    z.strictObject({
      n: z.number().int().min(1),
      chunkId: z.string().min(1),
      docId: z.string().min(1),
      fileName: z.string(),
      title: z.string().nullable(),
      heading: z.array(z.string()),
      location: z.strictObject({ pageStart: line, pageEnd: line, lineStart: line, lineEnd: line }),
      wholeDocument: z.boolean(),
      text: z.string(),
    }),
  ),
  history: z.array(z.strictObject({ role: z.enum(MESSAGE_ROLES), text: z.string() })),
  question: z.string(),
  answer: z.string(),
}) satisfies z.ZodType<ProofTranscript>;

const bundleSchema = z.strictObject({
  format: z.literal(PROOF_BUNDLE_FORMAT),
  version: z.literal(1),
  // Shapes only here: each receipt's hash is recomputed by parseReceipt below.
  receipt: z.unknown(),
  chain: z.array(z.unknown()),
  transcript: transcriptSchema.nullable(),
});

/** What `hearth verify FILE` reads: a proof bundle, or a bare receipt. */
export type VerifyInput = { kind: 'bundle'; bundle: ProofBundle } | { kind: 'receipt'; receipt: AnswerReceipt };

/**
 * A file's JSON as a bundle or a receipt, every receipt checked (shape, recomputed hash):
 * RECEIPT_INVALID when a field was changed or the file is neither.
 */
export function parseVerifyInput(value: unknown, where: string): VerifyInput {
  if (value !== null && typeof value === 'object' && 'format' in value) {
    const parsed = bundleSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const at = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
      throw new HearthError('RECEIPT_INVALID', `${where} is not a valid Hearth proof bundle${at}: ${issue?.message ?? 'bad shape'}.`);
    }
    const { chain, receipt, transcript } = parsed.data;
    return {
      kind: 'bundle',
      bundle: {
        format: PROOF_BUNDLE_FORMAT,
        version: 1,
        receipt: parseReceipt(receipt, `${where} (its receipt)`),
        chain: chain.map((r, i) => parseReceipt(r, `${where} (receipt ${i + 1} of its chain)`)),
        transcript,
      },
    };
  }
  if (!answerReceiptSchema.safeParse(value).success && !(value !== null && typeof value === 'object' && 'fields' in value)) {
    throw new HearthError('RECEIPT_INVALID', `${where} is neither a Hearth proof bundle nor a receipt.`);
  }
  return { kind: 'receipt', receipt: parseReceipt(value, where) };
}

/**
 * The chat history the model was given, rebuilt from a transcript as the chat builds it: the
 * system prompt and (in a scoped chat) the sources in one system message, the earlier turns,
 * the question.
 */
export function historyOf(transcript: ProofTranscript): ChatHistoryItem[] {
  const systemText = [transcript.systemPrompt, transcript.scoped ? sourcePromptFor(transcript.passages) : null].filter((part) => !!part).join('\n\n');
  return [
    ...(systemText ? [{ type: 'system', text: systemText } as const] : []),
    ...transcript.history.map((turn): ChatHistoryItem => (turn.role === 'user' ? { type: 'user', text: turn.text } : { type: 'model', response: [turn.text] })),
    { type: 'user', text: transcript.question },
  ];
}
