import { getAddress } from 'ethers';
import type { AnswerReceipt } from '#contract/dto';
import type { ProofTranscript, VerifyCheckResult } from '#contract/verify';
import { NO_PREVIOUS_RECEIPT, recoverSigner, textSha256 } from '../receipts/receiptFormat';

/**
 * The checks that need nothing but the file: who signed, whether the chain holds, whether the
 * transcript's answer and passages are the ones the receipt names. Each says what it found in
 * one sentence a person can act on.
 */

/** Recovers the signer and compares it with the address the receipt names and the one expected (the vault's, or --address). */
export function checkSignature(receipt: AnswerReceipt, expected: { address: string; whose: string } | null): { result: VerifyCheckResult; signer: string | null } {
  if (!receipt.signature) {
    return {
      signer: null,
      result: {
        check: 'signature',
        status: expected ? 'fail' : 'warn',
        message: 'Not signed: the receipt was stored while the wallet was locked, so no wallet attests it yet (sign it in Hearth).',
      },
    };
  }
  let recovered: string;
  try {
    recovered = recoverSigner(receipt);
  } catch (error) {
    return { signer: null, result: { check: 'signature', status: 'fail', message: (error as Error).message } };
  }
  if (recovered !== receipt.signer) {
    return {
      signer: recovered,
      result: { check: 'signature', status: 'fail', message: `The signature recovers ${recovered}, not the signer the receipt names (${receipt.signer ?? 'none'}).` },
    };
  }
  if (expected && getAddress(expected.address) !== recovered) {
    return { signer: recovered, result: { check: 'signature', status: 'fail', message: `Signed by ${recovered}, not by ${expected.whose} (${expected.address}).` } };
  }
  return {
    signer: recovered,
    result: {
      check: 'signature',
      status: 'pass',
      message: expected ? `Signed by ${recovered}: ${expected.whose}.` : `Signed by ${recovered} (give --address to compare it with the address you expect).`,
    },
  };
}

/** The chain from the chat's first receipt to this one: each names the hash of the one before. */
export function checkChain(receipt: AnswerReceipt, chain: readonly AnswerReceipt[]): VerifyCheckResult {
  if (chain.length === 0) {
    return { check: 'chain', status: 'skipped', message: 'No chain: only this receipt was given, so earlier replies cannot be checked.' };
  }
  const last = chain.at(-1)!;
  if (last.hash !== receipt.hash) {
    return { check: 'chain', status: 'fail', message: 'The chain does not end with this receipt.' };
  }
  let previous = NO_PREVIOUS_RECEIPT;
  for (const [i, link] of chain.entries()) {
    if (link.fields.threadId !== receipt.fields.threadId) {
      return { check: 'chain', status: 'fail', message: `Receipt ${i + 1} of the chain belongs to another chat (${link.fields.threadId}).` };
    }
    if (link.fields.previousReceipt !== previous) {
      return {
        check: 'chain',
        status: 'fail',
        message:
          i === 0
            ? 'The first receipt of the chain names an earlier one: a reply before it was removed from the chain.'
            : `Receipt ${i + 1} of the chain names ${link.fields.previousReceipt} before it, but receipt ${i} is ${previous}: a reply was removed, reordered or changed.`,
      };
    }
    previous = link.hash;
  }
  return { check: 'chain', status: 'pass', message: `Unbroken: ${chain.length} receipt${chain.length === 1 ? '' : 's'} from the chat's first reply to this one.` };
}

/** The transcript's answer and passages against the receipt's hashes (the input tokens are checked with the model). */
export function transcriptProblems(receipt: AnswerReceipt, transcript: ProofTranscript): string[] {
  const problems: string[] = [];
  const { fields } = receipt;
  if (textSha256(transcript.answer) !== fields.output.textSha256) problems.push("The answer's text is not the one the receipt names (its sha256 differs).");
  const given = transcript.passages.map((p) => ({ id: p.wholeDocument ? p.docId : p.chunkId, textSha256: textSha256(p.text), n: p.n }));
  if (given.length !== fields.passages.length) {
    problems.push(`The transcript has ${given.length} passage${given.length === 1 ? '' : 's'}, the receipt names ${fields.passages.length}: a passage was added or dropped.`);
  } else {
    for (const [i, passage] of given.entries()) {
      const named = fields.passages[i]!;
      if (passage.n !== i + 1) problems.push(`Passage ${i + 1} is numbered [${passage.n}]: the passages were reordered.`);
      if (passage.id !== named.id) {
        const elsewhere = fields.passages.findIndex((p) => p.id === passage.id);
        problems.push(
          elsewhere >= 0
            ? `Passage ${i + 1} is the receipt's passage ${elsewhere + 1}: the passages were reordered.`
            : `Passage ${i + 1} (${passage.id}) is not the one the receipt names there (${named.id}).`,
        );
      } else if (passage.textSha256 !== named.textSha256) problems.push(`The text of passage ${i + 1} was changed (its sha256 is not the receipt's).`);
    }
  }
  return problems;
}
