import type { CheckStatus, GpuBackend, ReplayOutcome, VerifyCheck } from './vocabulary';

/** The inference build a reply was generated or replayed with: a difference here explains a different output. */
export interface InferenceBuild {
  backend: GpuBackend;
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
