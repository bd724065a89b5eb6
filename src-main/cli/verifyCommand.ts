import { basename, resolve } from 'node:path';
import { getAddress } from 'ethers';
import type { VerifyReport } from '#contract/verify';
import type { CheckStatus } from '#contract/vocabulary';
import { HearthError } from '../core/common/hearthError';
import { readRegularFile } from '../core/common/regularFile';
import { defineCommand } from './declare/commandSpec';
import { text, value } from './declare/options';
import { arg } from './declare/positionals';
import { withCore } from './openCore';
import { printResult } from './output';
import { coreOptions, jsonOption } from './sharedOptions';
import { UsageError } from './usageError';

/** `hearth verify FILE`: checks a proof bundle or a receipt, replaying the reply when the model is here. */
export const verifyCommand = defineCommand({
  name: 'verify',
  summary: 'Check a proof bundle or an answer receipt: signature, chain, transcript, replay (--json)',
  description: `Checks an answer receipt, or a proof bundle (\`hearth receipts export\`), without the
sender's data: the signature (the address it recovers, compared with --address when given), the
chain of receipts in the chat, the transcript against the receipt's hashes, the model file, and
a replay of the reply on the CPU from the transcript's exact input tokens and the recorded
settings: "identical", or where the output first differs, with both continuations. A replay on
another backend or llama.cpp build says so instead of claiming tampering. Passages are checked
against the documents when they are indexed in this library.`,
  options: {
    model: text('PATH', "The model file to replay with (else a model of this library with the receipt's sha256)"),
    address: value('0x…', 'The address the receipt must be signed by', (raw, flag, command) => {
      try {
        return getAddress(raw.toLowerCase());
      } catch {
        throw new UsageError(`${flag} takes a wallet address (0x and 40 hex digits), not ${raw}`, command);
      }
    }),
    ...jsonOption('The checks as JSON: ok, signer, checks, replay'),
    ...coreOptions,
  },
  positionals: { file: arg('FILE', 'A proof bundle or a receipt, as JSON') },
  notes: `Exit codes: 0 no check failed (a skipped or warned check says what could not be proved),
1 a check failed, or FILE is not a valid bundle or receipt (error RECEIPT_INVALID), 2 bad usage.`,
  async run({ options, args }, ctx) {
    const path = resolve(args.file);
    const raw = await readRegularFile(path, { expected: 'a proof bundle or a receipt' });
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HearthError('RECEIPT_INVALID', `${basename(path)} is not JSON, so it is neither a proof bundle nor a receipt.`);
    }
    const modelPath = options.model === undefined ? undefined : resolve(options.model);
    return withCore(
      options,
      ctx,
      async (core) => {
        const report = await core.verification.verifyFile(parsed, basename(path), { modelPath, address: options.address });
        printResult(ctx, options.json, report, () => reportText(report));
        return report.ok ? 0 : 1;
      },
      { library: { watch: false } },
    );
  },
});

const MARKS = { pass: 'ok  ', fail: 'FAIL', warn: 'warn', skipped: 'skip' } satisfies Record<CheckStatus, string>;

/** The checks for people: one line each, the replay's continuations when it differs, the verdict last. */
export function reportText(report: VerifyReport): string {
  const lines = report.checks.map((c) => `${MARKS[c.status]}  ${c.check.padEnd(10)} ${c.message}`);
  const replay = report.replay;
  if (replay && replay.outcome === 'differs') {
    lines.push(`      recorded: ${JSON.stringify(replay.recordedContinuation ?? '')}`, `      replayed: ${JSON.stringify(replay.replayedContinuation ?? '')}`);
  }
  if (replay) lines.push(`      replayed in ${Math.round(replay.elapsedMs)} ms on ${replay.replayedOn.backend}, ${replay.replayedOn.llamaCpp}`);
  lines.push('', report.ok ? 'Verified: no check failed.' : 'NOT VERIFIED: a check failed.');
  return lines.join('\n');
}
