import type { AnswerReceipt, ChunkLocation } from './dto';
import type { CheckStatus, MessageRole, ReplayOutcome, VerifyCheck } from './vocabulary';

/** The inference build a reply was generated or replayed with: a difference here explains a different output. */
export interface InferenceBuild {
  /** cpu, cuda, vulkan or metal (a GpuBackend; a string, as receipts from other versions may name others). */
  backend: string;
  /** llama.cpp release the binary was built from (node-llama-cpp's `llamaCppRelease`). */
  llamaCpp: string;
  nodeLlamaCpp: string;
}

/** What a replay found. */
export interface ReplayReport {
  outcome: ReplayOutcome;
  /** Tokens in the recorded output. */
  recordedTokens: number;
  /** The index (0-based) of the first output token that differs; null when none does. */
  differsAt: number | null;
  /** The recorded output from the first difference on, detokenized (shortened); null when identical. */
  recordedContinuation: string | null;
  /** What the replay generated from the first difference on (shortened); null when identical. */
  replayedContinuation: string | null;
  /**
   * When identical and the recorded reply is shorter than its token limit: whether the model
   * ends its text right there (false: the reply was stopped early, or cut at a stop text).
   */
  endsWhereModelEnds: boolean | null;
  /** The build that replayed, and how it differs from the recorded one (empty: the same). */
  replayedOn: InferenceBuild;
  buildDifferences: string[];
  elapsedMs: number;
  /** One sentence for people, saying what the outcome means. */
  message: string;
}

/** One check of a verification. */
export interface VerifyCheckResult {
  check: VerifyCheck;
  status: CheckStatus;
  message: string;
}

/** Everything `hearth verify` or the Verify button found. */
export interface VerifyReport {
  /** True when no check failed (skipped and warned checks do not fail a verification). */
  ok: boolean;
  /** The address that signed, recovered from the signature; null when unsigned. */
  signer: string | null;
  checks: VerifyCheckResult[];
  replay: ReplayReport | null;
}

/** A passage as the model was given it, in a proof bundle (the file's name only, never its folder). */
export interface TranscriptPassage {
  /** Its number in the prompt: [1], [2]... */
  n: number;
  chunkId: string;
  docId: string;
  /** The file's name, as the prompt named it. */
  fileName: string;
  title: string | null;
  heading: string[];
  location: ChunkLocation;
  wholeDocument: boolean;
  text: string;
}

/** Everything the model was given for one reply, and the reply: enough to rebuild its input tokens. */
export interface ProofTranscript {
  systemPrompt: string;
  /** True when the chat answered from collections (the prompt then holds source instructions, even with no passage). */
  scoped: boolean;
  passages: TranscriptPassage[];
  /** The earlier turns the model was given, oldest first (turns left out for room are not here). */
  history: { role: MessageRole; text: string }[];
  question: string;
  answer: string;
}

/**
 * A proof bundle: one reply's receipt, the receipts before it in its chat (the chain), and, when
 * the user exports it, the full transcript. `hearth verify bundle.json --model PATH` checks it
 * anywhere, without the sender's data.
 */
export interface ProofBundle {
  format: 'hearth-proof-bundle';
  version: 1;
  receipt: AnswerReceipt;
  /** The chat's receipts from its first through this one, in order. */
  chain: AnswerReceipt[];
  transcript: ProofTranscript | null;
}
