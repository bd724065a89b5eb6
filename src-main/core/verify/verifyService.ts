import { basename } from 'node:path';
import type { AnswerReceipt } from '#contract/dto';
import type { ProofTranscript, ReplayReport, TranscriptPassage, VerifyCheckResult, VerifyReport } from '#contract/verify';
import type { CheckStatus } from '#contract/vocabulary';
import { samplingFromReceipt } from '../inference/generationSampling';
import type { RenderedPrompt, ReplayEngine } from '../inference/replayEngine';
import { tokenIdsSha256 } from '../receipts/receiptFormat';
import { historyOf, type VerifyInput } from './proofBundle';
import { checkChain, checkSignature, transcriptProblems } from './verifyChecks';

/** Checks a passage against the documents of this library (the sources check). */
export interface PassageChecker {
  check(passage: TranscriptPassage, named: { documentSha256: string; textSha256: string }, signal?: AbortSignal): Promise<{ status: CheckStatus; message: string }>;
}

export interface VerifyServiceDeps {
  replay: () => ReplayEngine;
  /** The most CPU threads a replay may use. */
  maxThreads: () => number;
  /** A file's sha256 (hex) and size; the model files' cache. */
  hashFile: (path: string) => Promise<{ sha256: string; sizeBytes: number }>;
  /** A model file of this library with this sha256 (hex) and size, or null. */
  findModel: (sha256: string, size: number) => Promise<string | null>;
  /** Checks passages against this library's documents; null where there is no library. */
  sources: PassageChecker | null;
}

export interface VerifyOptions {
  /** The model file to replay with; else a library model with the receipt's sha256. */
  modelPath?: string;
  /** Whose signature is expected: an address, and how to name it ("this vault's wallet"). */
  expected?: { address: string; whose: string } | null;
  signal?: AbortSignal;
}

/**
 * Verifies a receipt or a proof bundle: the signature, the chain, the transcript against the
 * receipt's hashes, the model file, a replay on the CPU, the sources. Each check says what it
 * found; a check that cannot run says why (skipped), and only a failed check fails the whole.
 */
export class VerifyService {
  constructor(private readonly deps: VerifyServiceDeps) {}

  async verify(input: VerifyInput, options: VerifyOptions = {}): Promise<VerifyReport> {
    const receipt = input.kind === 'bundle' ? input.bundle.receipt : input.receipt;
    const transcript = input.kind === 'bundle' ? input.bundle.transcript : null;
    const checks: VerifyCheckResult[] = [
      {
        check: 'format',
        status: 'pass',
        message: `A Hearth ${input.kind === 'bundle' ? 'proof bundle' : 'receipt'}; the receipt's hash matches its fields (${receipt.hash}).`,
      },
    ];
    const { result: signature, signer } = checkSignature(receipt, options.expected ?? null);
    checks.push(signature);
    checks.push(input.kind === 'bundle' ? checkChain(receipt, input.bundle.chain) : skipped('chain', 'Only a receipt: export the reply as a proof bundle to check its chain.'));

    const textProblems = transcript ? transcriptProblems(receipt, transcript) : [];
    const model = await this.modelCheck(receipt, options);
    checks.push(model.result);
    const rendered = transcript && model.path ? await this.deps.replay().render(model.path, historyOf(transcript)) : null;
    checks.push(transcriptCheck(receipt, transcript, textProblems, rendered));

    let replay: ReplayReport | null = null;
    const inputMatches = rendered !== null && tokenIdsSha256(rendered.tokens) === receipt.fields.input.tokensSha256;
    if (!transcript) checks.push(skipped('replay', 'Needs the transcript (the input tokens are rebuilt from it): export the reply with its transcript.'));
    else if (!model.path) checks.push(skipped('replay', 'Needs the model file the receipt names.'));
    else if (!inputMatches) checks.push(skipped('replay', 'The transcript does not give the recorded input tokens, so there is nothing to replay.'));
    else {
      replay = await this.deps.replay().replay({
        modelPath: model.path,
        inputTokens: rendered.tokens,
        recorded: { ...receipt.fields.output, text: transcript.answer },
        contextSize: receipt.fields.runtime.contextSize,
        batchSize: receipt.fields.runtime.batchSize,
        sampling: samplingFromReceipt(receipt.fields.sampling),
        recordedBuild: receipt.fields.runtime,
        // As many threads as the reply was generated with, at most what the user allows (--threads) or this CPU has.
        threads: Math.max(1, Math.min(receipt.fields.runtime.threads, this.deps.maxThreads())),
        signal: options.signal,
      });
      const status: CheckStatus =
        replay.outcome === 'identical' ? 'pass' : replay.outcome === 'not-replayable' || replay.buildDifferences.length > 0 ? 'warn' : 'fail';
      checks.push({ check: 'replay', status, message: replay.message });
    }
    checks.push(await this.sourcesCheck(receipt, transcript, textProblems.length === 0, options.signal));
    return { ok: checks.every((c) => c.status !== 'fail'), signer, checks, replay };
  }

  /** The model file: the one given, else one of this library with the receipt's sha256; its hash and size compared. */
  private async modelCheck(receipt: AnswerReceipt, options: VerifyOptions): Promise<{ result: VerifyCheckResult; path: string | null }> {
    const named = receipt.fields.model;
    const sha = named.sha256.replace(/^0x/, '');
    const path = options.modelPath ?? (await this.deps.findModel(sha, named.size));
    if (!path) {
      return {
        path: null,
        result: skipped('model', `No model file to check: the receipt names ${named.name} (sha256 ${sha}); give --model PATH to replay.`),
      };
    }
    const file = await this.deps.hashFile(path);
    if (file.sha256 !== sha || file.sizeBytes !== named.size) {
      return {
        path: null,
        result: {
          check: 'model',
          status: 'fail',
          message: `${basename(path)} is not the model the receipt names: its sha256 is ${file.sha256} (${file.sizeBytes} bytes), the receipt's ${sha} (${named.size} bytes).`,
        },
      };
    }
    return { path, result: { check: 'model', status: 'pass', message: `${basename(path)} is the model the receipt names (${named.name}, sha256 ${sha}).` } };
  }

  private async sourcesCheck(receipt: AnswerReceipt, transcript: ProofTranscript | null, passagesMatch: boolean, signal?: AbortSignal): Promise<VerifyCheckResult> {
    const named = receipt.fields.passages;
    if (named.length === 0) return skipped('sources', 'No passages: the reply did not answer from documents.');
    if (!transcript) return skipped('sources', 'Needs the transcript, which says which documents the passages come from.');
    if (!passagesMatch) return skipped('sources', 'The passages are not the ones the receipt names (see the transcript check).');
    if (!this.deps.sources) return skipped('sources', 'The documents are not here: the passages can be checked only where they were indexed.');
    const results = [];
    for (const [i, passage] of transcript.passages.entries()) results.push(await this.deps.sources.check(passage, named[i]!, signal));
    const failed = results.filter((r) => r.status === 'fail');
    if (failed.length > 0) return { check: 'sources', status: 'fail', message: failed.map((r) => r.message).join(' ') };
    const present = results.filter((r) => r.status === 'pass').length;
    if (present === 0) return skipped('sources', 'None of the documents is in this library.');
    return {
      check: 'sources',
      status: present === results.length ? 'pass' : 'warn',
      message: `${present} of ${results.length} passage${results.length === 1 ? '' : 's'} still match the indexed text and the file${
        present === results.length ? '' : `; ${results.length - present} could not be checked here`
      }.`,
    };
  }
}

function skipped(check: VerifyCheckResult['check'], message: string): VerifyCheckResult {
  return { check, status: 'skipped', message };
}

/** The transcript against the receipt: answer and passages always; the input tokens once the model is here. */
function transcriptCheck(receipt: AnswerReceipt, transcript: ProofTranscript | null, problems: string[], rendered: RenderedPrompt | null): VerifyCheckResult {
  if (!transcript) return skipped('transcript', 'The bundle was exported without its transcript.');
  if (problems.length > 0) return { check: 'transcript', status: 'fail', message: problems.join(' ') };
  if (!rendered) {
    return { check: 'transcript', status: 'warn', message: 'The answer and the passages match the receipt; the prompt can be checked only with the model file.' };
  }
  const { input, runtime } = receipt.fields;
  if (tokenIdsSha256(rendered.tokens) === input.tokensSha256 && rendered.tokens.length === input.tokenCount) {
    return {
      check: 'transcript',
      status: 'pass',
      message: `The transcript gives exactly the ${input.tokenCount} input tokens the receipt names, and its answer and passages match.`,
    };
  }
  if (rendered.chatWrapper !== runtime.chatWrapper || rendered.chatTemplateSha256 !== runtime.chatTemplateSha256) {
    return {
      check: 'transcript',
      status: 'warn',
      message: `The prompt was written with the ${runtime.chatWrapper} chat wrapper, here it is ${rendered.chatWrapper}: the input tokens cannot be compared.`,
    };
  }
  return {
    check: 'transcript',
    status: 'fail',
    message: `The transcript gives ${rendered.tokens.length} input tokens whose sha256 is not the receipt's: the system prompt, the history, the passages or the question differ from what the model was given.`,
  };
}
