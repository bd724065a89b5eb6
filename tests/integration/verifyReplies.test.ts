import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnswerReceipt, Message } from '#contract/dto';
import type { ProofBundle, VerifyReport } from '#contract/verify';
import { HearthError } from '../../src-main/core/common/hearthError';
import type { Core } from '../../src-main/core/createCore';
import { buildReceipt, signReceipt, textSha256 } from '../../src-main/core/receipts/receiptFormat';
import { createLibraryCore, indexPath } from '../support/libraryCore';
import { receiptMutations } from '../support/receiptMutations';
import { createTestCore } from '../support/testCore';
import { tempDir } from '../support/tempDir';
import { testModelPath } from '../support/testModels';

const PASSPHRASE = 'correct horse battery';

/** Each check's status, by name. */
const statuses = (report: VerifyReport) => Object.fromEntries(report.checks.map((c) => [c.check, c.status]));
const messageOf = (report: VerifyReport, check: string) => report.checks.find((c) => c.check === check)?.message ?? '';

/**
 * Proof bundles and verification with the real model, real SQLite and a real wallet: a reply
 * exported here verifies in a fresh, empty data directory (replayed identically on the CPU),
 * and each kind of tampering is found with a message that says what changed.
 */
describe('verifying replies and proof bundles', () => {
  let core: Core;
  let cleanup: () => Promise<void>;
  let elsewhere: { core: Core; cleanup: () => Promise<void> };
  let modelPath: string;
  let otherModel: string;
  let address: string;
  let wallet: Awaited<ReturnType<Core['vault']['signingWallet']>>;
  let thread: string;
  let replies: Message[] = [];
  let bundle: ProofBundle;
  const docs = tempDir('hearth-verify-docs-');

  /** Verifies a bundle in the fresh data directory, as someone else would. */
  const verifyElsewhere = (value: unknown, options: { address?: string; modelPath?: string | null } = {}) =>
    elsewhere.core.verification.verifyFile(structuredClone(value), 'bundle.json', {
      ...(options.modelPath === null ? {} : { modelPath: options.modelPath ?? modelPath }),
      ...(options.address ? { address: options.address } : {}),
    });
  const resign = (fields: AnswerReceipt['fields']): AnswerReceipt => {
    if (wallet === null || wallet === 'locked') throw new Error('the vault should be unlocked');
    return signReceipt(buildReceipt(fields), wallet);
  };

  beforeAll(async () => {
    const lib = await createLibraryCore({ vault: { scryptN: 1 << 12 } });
    ({ core, cleanup } = lib);
    elsewhere = createTestCore();
    modelPath = await testModelPath('stories260K');
    otherModel = await testModelPath('tinyRandom');
    await core.runner.load(lib.model.id, { contextSize: 512 });
    core.settings.update({ maxReplyTokens: 24, temperature: 0.8 });
    ({ address } = await core.vault.create({ passphrase: PASSPHRASE }));
    wallet = await core.vault.signingWallet();
    thread = core.chat.createThread('Stories', 'You tell short stories.').id;
    for (const [i, question] of ['Once upon a time', 'Tell me about a cat', 'What did the dog find?'].entries()) {
      const { assistantMessageId } = await core.chat.send(thread, question, { seed: 100 + i });
      await core.chat.idle(thread);
      replies.push(core.chat.getThread(thread).messages.find((m) => m.id === assistantMessageId)!);
    }
    replies = replies.filter((m) => m.receipt === 'signed');
    bundle = await core.verification.exportBundle(replies.at(-1)!.id, true);
  });
  afterAll(async () => {
    await elsewhere?.cleanup();
    await cleanup?.();
    docs.cleanup();
  });

  it('exports a reply as one bundle: receipt, chain, and the full transcript', () => {
    expect(replies).toHaveLength(3);
    expect(bundle.receipt.fields.messageId).toBe(replies[2]!.id);
    expect(bundle.chain.map((r) => r.fields.messageId)).toEqual(replies.map((r) => r.id));
    expect(bundle.transcript).toMatchObject({
      systemPrompt: 'You tell short stories.',
      scoped: false,
      passages: [],
      question: 'What did the dog find?',
      answer: replies[2]!.content,
    });
    expect(bundle.transcript!.history.map((t) => t.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
  });

  it('verifies in a fresh, empty data directory with only the model file: identical replay', async () => {
    const report = await verifyElsewhere(bundle, { address });
    expect(statuses(report)).toEqual({ format: 'pass', signature: 'pass', chain: 'pass', transcript: 'pass', model: 'pass', replay: 'pass', sources: 'skipped' });
    expect(report).toMatchObject({ ok: true, signer: address, replay: { outcome: 'identical', differsAt: null } });
    expect(messageOf(report, 'signature')).toBe(`Signed by ${address}: the address given.`);
  });

  it('verifies a reply of this library with the Verify path (the vault wallet, the library model)', async () => {
    const report = await core.verification.verifyMessage(replies[0]!.id);
    expect(report.ok).toBe(true);
    expect(statuses(report)).toMatchObject({ signature: 'pass', chain: 'pass', transcript: 'pass', model: 'pass', replay: 'pass' });
    expect(messageOf(report, 'signature')).toContain("this vault's wallet");
  });

  it('without the model file, checks what it can and says what it could not', async () => {
    const report = await verifyElsewhere(bundle, { modelPath: null });
    expect(report.ok).toBe(true);
    expect(statuses(report)).toMatchObject({ model: 'skipped', transcript: 'warn', replay: 'skipped' });
    expect(messageOf(report, 'model')).toContain('give --model PATH');
  });

  it('a bundle without its transcript still checks signature and chain; the replay says it needs the transcript', async () => {
    const receiptOnly = await core.verification.exportBundle(replies[1]!.id, false);
    expect(receiptOnly.transcript).toBeNull();
    const report = await verifyElsewhere(receiptOnly);
    expect(statuses(report)).toMatchObject({ signature: 'pass', chain: 'pass', transcript: 'skipped', replay: 'skipped' });
    expect(messageOf(report, 'signature')).toContain('give --address to compare it');
  });

  it('a changed byte in any field of the receipt is found', async () => {
    for (const { path, changed } of receiptMutations(bundle.receipt.fields)) {
      // The hash left as it was: the file is refused as invalid.
      const stale = { ...bundle, receipt: { ...bundle.receipt, fields: changed } };
      await expect(verifyElsewhere(stale), path).rejects.toMatchObject({ code: 'RECEIPT_INVALID', message: expect.stringContaining('a field was changed') });
      // The hash made again to match: the signature now recovers another address.
      const rehashed = { ...stale, receipt: { ...buildReceipt(changed), signer: bundle.receipt.signer, signature: bundle.receipt.signature } };
      const report = await verifyElsewhere(rehashed, { modelPath: null, address });
      expect(statuses(report).signature, path).toBe('fail');
      expect(report.ok).toBe(false);
    }
  });

  it('a wrong signer is found', async () => {
    const stranger = Wallet.createRandom();
    const forged = { ...bundle, receipt: signReceipt(buildReceipt(bundle.receipt.fields), stranger) };
    const report = await verifyElsewhere(forged, { address, modelPath: null });
    expect(statuses(report).signature).toBe('fail');
    expect(messageOf(report, 'signature')).toBe(`Signed by ${stranger.address}, not by the address given (${address}).`);
    // And a receipt naming a signer its signature does not recover.
    const misnamed = { ...bundle, receipt: { ...bundle.receipt, signer: stranger.address } };
    expect(messageOf(await verifyElsewhere(misnamed, { modelPath: null }), 'signature')).toContain(`not the signer the receipt names (${stranger.address})`);
  });

  it('a tampered output is found: by its hash, and by replay when the wallet signs the tampered one', async () => {
    const edited = { ...bundle, transcript: { ...bundle.transcript!, answer: `${bundle.transcript!.answer} The end.` } };
    const report = await verifyElsewhere(edited);
    expect(statuses(report).transcript).toBe('fail');
    expect(messageOf(report, 'transcript')).toContain("The answer's text is not the one the receipt names");

    // The signer attests an output the model did not write: the signature holds, the replay does not.
    const answer = bundle.transcript!.answer.replace(/\S+\s*$/, 'dragons.');
    const fields = { ...bundle.receipt.fields, output: { ...bundle.receipt.fields.output, textSha256: textSha256(answer), tokensSha256: textSha256('forged') } };
    const forged = resign(fields);
    const lying = { ...bundle, receipt: forged, chain: [...bundle.chain.slice(0, -1), forged], transcript: { ...bundle.transcript!, answer } };
    const replayed = await verifyElsewhere(lying, { address });
    expect(statuses(replayed)).toMatchObject({ signature: 'pass', chain: 'pass', transcript: 'pass', replay: 'fail' });
    expect(replayed.replay).toMatchObject({ outcome: 'differs', recordedContinuation: expect.stringContaining('dragons.') });
    expect(replayed.replay!.message).toMatch(/^Differs at token \d+ of \d+: on the same build and settings/);
  });

  it('a changed question or history is found by the input tokens', async () => {
    const report = await verifyElsewhere({ ...bundle, transcript: { ...bundle.transcript!, question: 'What did the cat find?' } });
    expect(statuses(report)).toMatchObject({ transcript: 'fail', replay: 'skipped' });
    expect(messageOf(report, 'transcript')).toContain('differ from what the model was given');
  });

  it('a dropped or reordered receipt in the chain is found', async () => {
    const dropped = await verifyElsewhere({ ...bundle, chain: [bundle.chain[0]!, bundle.chain[2]!] }, { modelPath: null });
    expect(messageOf(dropped, 'chain')).toContain('a reply was removed, reordered or changed');
    const reordered = await verifyElsewhere({ ...bundle, chain: [bundle.chain[1]!, bundle.chain[0]!, bundle.chain[2]!] }, { modelPath: null });
    expect(messageOf(reordered, 'chain')).toContain('a reply before it was removed');
  });

  it('another model file is found and not replayed', async () => {
    const report = await verifyElsewhere(bundle, { modelPath: otherModel });
    expect(statuses(report)).toMatchObject({ model: 'fail', replay: 'skipped' });
    expect(messageOf(report, 'model')).toContain('is not the model the receipt names');
  });

  describe('a reply from documents', () => {
    let scoped: ProofBundle;
    let sourcesReply: Message;

    beforeAll(async () => {
      for (const [name, hour] of [['north.md', 7], ['south.md', 9], ['west.md', 11]] as const) {
        writeFileSync(join(docs.path, name), `# ${name}\n\nThe ferry timetable lists a sailing from the harbour at ${hour}:15.\n`);
      }
      const { collection } = await indexPath(core, docs.path, 'Ferries');
      const id = core.chat.createThread().id;
      core.chat.setCollections(id, [collection.id]);
      const { assistantMessageId } = await core.chat.send(id, 'Which harbour sailing does the ferry timetable list?', { seed: 7 });
      await core.chat.idle(id);
      sourcesReply = core.chat.getThread(id).messages.find((m) => m.id === assistantMessageId)!;
      scoped = await core.verification.exportBundle(sourcesReply.id, true);
    });

    it('replays identically, and the passages match the index and the files', async () => {
      expect(scoped.transcript!.passages.length).toBeGreaterThan(1);
      expect(scoped.transcript!.passages.every((p) => !p.fileName.includes('/'))).toBe(true);
      const here = await core.verification.verifyMessage(sourcesReply.id);
      expect(statuses(here)).toMatchObject({ transcript: 'pass', replay: 'pass', sources: 'pass' });
      const there = await verifyElsewhere(scoped, { address });
      expect(statuses(there)).toMatchObject({ transcript: 'pass', replay: 'pass', sources: 'skipped' });
    });

    it('a reordered or dropped passage is found', async () => {
      const passages = scoped.transcript!.passages;
      const swapped = [passages[1]!, passages[0]!, ...passages.slice(2)];
      const reordered = await verifyElsewhere({ ...scoped, transcript: { ...scoped.transcript!, passages: swapped } });
      expect(statuses(reordered).transcript).toBe('fail');
      expect(messageOf(reordered, 'transcript')).toContain('the passages were reordered');
      const dropped = await verifyElsewhere({ ...scoped, transcript: { ...scoped.transcript!, passages: passages.slice(1) } });
      expect(messageOf(dropped, 'transcript')).toContain('a passage was added or dropped');
    });

    it('a document changed since the reply is found by the sources check', async () => {
      const file = join(docs.path, scoped.transcript!.passages[0]!.fileName);
      appendFileSync(file, 'A new line.\n');
      const report = await core.verification.verifyMessage(sourcesReply.id);
      expect(statuses(report).sources).toBe('fail');
      expect(messageOf(report, 'sources')).toContain('has changed since the reply');
    });
  });

  it('a file that is neither a bundle nor a receipt is refused with RECEIPT_INVALID', async () => {
    const error = await verifyElsewhere({ hello: 'world' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HearthError);
    expect((error as HearthError).code).toBe('RECEIPT_INVALID');
  });
});
