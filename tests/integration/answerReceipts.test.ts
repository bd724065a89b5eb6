import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GeneralChatWrapper, LlamaChat, getModuleVersion, type ChatHistoryItem, type Token } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnswerReceipt, ChatStreamEvent, Message } from '#contract/dto';
import { HearthError } from '../../src-main/core/common/hearthError';
import type { Core } from '../../src-main/core/createCore';
import { NO_PREVIOUS_RECEIPT, ZERO_BYTES32, hashReceipt, isValidlySigned, recoverSigner } from '../../src-main/core/receipts/receiptFormat';
import { createLibraryCore, indexPath, waitUntil } from '../support/libraryCore';
import { receiptMutations } from '../support/receiptMutations';
import { tempDir } from '../support/tempDir';
import { TEST_MODELS, testModelPath } from '../support/testModels';

/** Written out here rather than imported, so the receipt's hashes are checked independently. */
const sha256 = (bytes: Uint8Array | string) => `0x${createHash('sha256').update(bytes).digest('hex')}`;
const tokensHash = (tokens: readonly number[]) => sha256(new Uint8Array(Uint32Array.from(tokens).buffer));
const PASSPHRASE = 'correct horse battery';

async function expectCode(fn: () => unknown, code: string): Promise<HearthError> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HearthError);
    expect((error as HearthError).code).toBe(code);
    return error as HearthError;
  }
  throw new Error(`expected ${code}`);
}

describe('answer receipts (real model, real SQLite)', () => {
  let core: Core;
  let cleanup: () => Promise<void>;
  let modelPath: string;
  let address: string;
  let model: string;
  const ends: ChatStreamEvent[] = [];

  beforeAll(async () => {
    const lib = await createLibraryCore({ vault: { scryptN: 1 << 12 } });
    ({ core, cleanup } = lib);
    modelPath = await testModelPath('stories260K');
    model = lib.model.id;
    await core.runner.load(model, { contextSize: 512 });
    core.settings.update({ maxReplyTokens: 24, temperature: 0 });
    core.events.on('chat.stream', (e) => e.type === 'end' && ends.push(e));
  });
  afterAll(() => cleanup());

  async function ask(threadId: string, question: string, options: { seed?: number; temperature?: number } = {}): Promise<Message> {
    const { assistantMessageId } = await core.chat.send(threadId, question, options);
    await core.chat.idle(threadId);
    const message = core.chat.getThread(threadId).messages.find((m) => m.id === assistantMessageId)!;
    expect(message.status).not.toBe('error');
    return message;
  }

  const receiptOf = (message: Message): AnswerReceipt => core.receipts.read(message.id)!;

  it('makes no receipt while there is no wallet', async () => {
    const thread = core.chat.createThread();
    const reply = await ask(thread.id, 'Once upon a time');
    expect(reply.receipt).toBe('none');
    expect(core.receipts.read(reply.id)).toBeNull();
    // Nobody without receipts pays for reading the model file through.
    const hashed = () => (core.db.prepare('SELECT COUNT(*) AS n FROM file_hashes').get() as { n: number }).n;
    expect(hashed()).toBe(0);
    ({ address } = await core.vault.create({ passphrase: PASSPHRASE }));
    // With a wallet, loading a model hashes its file at once, before any reply needs it.
    await core.runner.unload();
    await core.runner.load(model, { contextSize: 512 });
    await waitUntil(() => hashed() === 1, 'the model file to be hashed');
  });

  it('signs each reply with hashes of the exact tokens in and out, the model file, and the settings used', async () => {
    const thread = core.chat.createThread();
    // Start from an empty context, so the independent replay below evaluates the same batches.
    await core.runtime.loaded!.pool.clearFree();
    const question = 'Lily found a ball';
    const reply = await ask(thread.id, question, { seed: 1234 });
    expect(reply.receipt).toBe('signed');
    const end = ends.at(-1);
    expect(end?.type === 'end' && end.message.receipt).toBe('signed');

    const receipt = receiptOf(reply);
    const { fields } = receipt;
    expect(recoverSigner(receipt)).toBe(address);
    expect(receipt.signer).toBe(address);
    expect(fields).toMatchObject({ threadId: thread.id, messageId: reply.id, previousReceipt: NO_PREVIOUS_RECEIPT, passages: [] });
    expect(fields.model).toEqual({
      name: core.runtime.loaded!.info.name,
      sha256: `0x${TEST_MODELS.stories260K.sha256}`,
      size: statSync(modelPath).size,
      architecture: 'llama',
      quantization: expect.any(String) as string,
    });
    const session = core.runtime.loaded!;
    expect(fields.runtime).toEqual({
      hearth: 'test',
      backend: 'cpu',
      nodeLlamaCpp: await getModuleVersion(),
      llamaCpp: `${session.model.llama.llamaCppRelease.repo}@${session.model.llama.llamaCppRelease.release}`,
      contextSize: 512,
      batchSize: session.context.batchSize,
      threads: 1,
      chatWrapper: 'General',
      chatTemplateSha256: ZERO_BYTES32,
    });
    expect(fields.sampling).toMatchObject({ temperature: '0', seed: 1234, topK: 40, topP: '0.95', minP: '0', maxTokens: 24, penaltyLastTokens: 0 });
    expect(fields.output.textSha256).toBe(sha256(Buffer.from(reply.content, 'utf8')));
    expect(Math.abs(fields.createdAt - Date.now())).toBeLessThan(60_000);

    // The input: the chat wrapper's prompt for this history, tokenized here.
    const history: ChatHistoryItem[] = [{ type: 'user', text: question }, { type: 'model', response: [] }];
    const input = new GeneralChatWrapper().generateContextState({ chatHistory: history }).contextText.tokenize(session.model.tokenizer);
    expect(fields.input).toEqual({ tokensSha256: tokensHash(input), tokenCount: input.length });
    const evaluated = session.pool.heldBy(thread.id)!.contextTokens;
    expect(evaluated.slice(0, input.length)).toEqual(input);

    // The output: the same generation replayed on a context of our own, greedy, token by token.
    const context = await session.model.createContext({ contextSize: 512, threads: 1, sequences: 1 });
    try {
      const sequence = context.getSequence();
      const replayed: Token[] = [];
      await new LlamaChat({ contextSequence: sequence, chatWrapper: new GeneralChatWrapper() }).generateResponse(history, {
        maxTokens: fields.sampling.maxTokens,
        temperature: 0,
        seed: fields.sampling.seed,
        repeatPenalty: false,
        onToken: (tokens) => replayed.push(...tokens),
      });
      expect(fields.output.tokenCount).toBe(replayed.length);
      expect(fields.output.tokensSha256).toBe(tokensHash(replayed));
      // What Hearth's own context evaluated after the prompt is the output it recorded.
      expect(evaluated.slice(input.length)).toEqual(replayed.slice(0, evaluated.length - input.length));
      expect(session.model.detokenize(replayed)).toBe(reply.content);
    } finally {
      await context.dispose();
    }

    // The model file was hashed once and kept in SQLite.
    const row = core.db.prepare('SELECT sha256 FROM file_hashes WHERE path = ?').get(modelPath) as { sha256: string } | undefined;
    expect(row?.sha256).toBe(TEST_MODELS.stories260K.sha256);
  });

  it('chains the receipts of a thread; a regenerated reply chains to the one before it', async () => {
    const thread = core.chat.createThread();
    const first = receiptOf(await ask(thread.id, 'Tom had a dog.'));
    const second = receiptOf(await ask(thread.id, 'What did the dog do?'));
    expect(first.fields.previousReceipt).toBe(NO_PREVIOUS_RECEIPT);
    expect(second.fields.previousReceipt).toBe(first.hash);
    expect(hashReceipt(second)).toBe(second.hash);

    const { assistantMessageId } = await core.chat.regenerate(thread.id);
    await core.chat.idle(thread.id);
    const again = core.receipts.read(assistantMessageId)!;
    expect(again.fields.previousReceipt).toBe(first.hash);
    expect(again.fields.messageId).toBe(assistantMessageId);
    // Without a seed one is chosen for each reply, and recorded.
    expect(again.fields.sampling.seed).toEqual(expect.any(Number));

    // Another thread starts its own chain.
    const other = receiptOf(await ask(core.chat.createThread().id, 'A cat sat.'));
    expect(other.fields.previousReceipt).toBe(NO_PREVIOUS_RECEIPT);
  });

  it('stores receipts unsigned while the vault is locked, and signs them later, chain intact', async () => {
    const thread = core.chat.createThread();
    const signedFirst = receiptOf(await ask(thread.id, 'The sun was hot.'));
    await core.vault.lock();
    const a = await ask(thread.id, 'Then it rained.');
    const b = await ask(thread.id, 'And then?');
    expect([a.receipt, b.receipt]).toEqual(['unsigned', 'unsigned']);
    expect(isValidlySigned(receiptOf(a))).toBe(false);
    expect(receiptOf(a).fields.previousReceipt).toBe(signedFirst.hash);
    await expectCode(() => core.receipts.signPending(thread.id), 'VAULT_LOCKED');

    await core.vault.unlock({ passphrase: PASSPHRASE });
    const before = receiptOf(b).hash;
    const changed: string[] = [];
    const off = core.events.on('threads.changed', (e) => changed.push(e.threadId));
    expect(await core.receipts.signPending(thread.id)).toEqual({ signed: 2, refused: [] });
    off();
    expect(changed).toEqual([thread.id]);
    const messages = core.chat.getThread(thread.id).messages.filter((m) => m.role === 'assistant');
    expect(messages.map((m) => m.receipt)).toEqual(['signed', 'signed', 'signed']);
    expect(recoverSigner(receiptOf(b))).toBe(address);
    expect(receiptOf(b).hash).toBe(before);
    expect(receiptOf(b).fields.previousReceipt).toBe(receiptOf(a).hash);
    // Nothing is left to sign.
    expect(await core.receipts.signPending(null)).toEqual({ signed: 0, refused: [] });
  });

  it('refuses to sign a receipt whose chain was broken, and reads a changed stored receipt as RECEIPT_INVALID', async () => {
    const thread = core.chat.createThread();
    await core.vault.lock();
    const a = await ask(thread.id, 'A bird sang.');
    const b = await ask(thread.id, 'Who heard it?');
    const c = await ask(thread.id, 'What next?');
    // A reply removed behind Hearth's back: the one after it no longer chains.
    core.db.prepare('DELETE FROM messages WHERE id = ?').run(b.id);
    // A stored receipt edited without its hash.
    const json = JSON.parse((core.db.prepare('SELECT receipt_json AS j FROM messages WHERE id = ?').get(a.id) as { j: string }).j) as AnswerReceipt;
    json.fields.output.tokenCount += 1;
    core.db.prepare('UPDATE messages SET receipt_json = ? WHERE id = ?').run(JSON.stringify(json), a.id);
    expect((await expectCode(() => core.receipts.read(a.id), 'RECEIPT_INVALID')).message).toMatch(/a field was changed/);

    await core.vault.unlock({ passphrase: PASSPHRASE });
    const result = await core.receipts.signPending(thread.id);
    expect(result.signed).toBe(0);
    expect(result.refused.map((r) => r.messageId)).toEqual([a.id, c.id]);
    expect(result.refused[1]!.reason).toMatch(/a reply was removed or changed/);
    expect(core.chat.getThread(thread.id).messages.find((m) => m.id === c.id)!.receipt).toBe('unsigned');
  });

  it('a changed byte in any field of a real receipt breaks its signature', async () => {
    const signed = receiptOf(await ask(core.chat.createThread().id, 'The end.'));
    const mutations = receiptMutations(signed.fields);
    // Every leaf: 35 besides the passages, and three per passage (none in this plain chat).
    expect(signed.fields.passages).toEqual([]);
    expect(mutations.length).toBe(35);
    for (const { path, changed } of mutations) {
      const tampered = { ...signed, fields: changed };
      expect(isValidlySigned(tampered), path).toBe(false);
      expect(hashReceipt(tampered), path).not.toBe(signed.hash);
    }
  });

  it('records the passages given to the model in prompt order, with their documents and texts', async () => {
    const docs = tempDir('hearth-receipt-docs-');
    try {
      // Small files: the best is given whole (its id is the document's), the others as passages.
      for (const [name, hour] of [['north.md', 7], ['south.md', 9], ['west.md', 11]] as const) {
        writeFileSync(join(docs.path, name), `# ${name}\n\nThe ferry timetable lists a sailing from the harbour at ${hour}:15.\n`);
      }
      const { collection } = await indexPath(core, docs.path, 'Receipts');
      const thread = core.chat.createThread();
      core.chat.setCollections(thread.id, [collection.id]);
      const reply = await ask(thread.id, 'Which harbour sailing does the ferry timetable list?');
      const citations = reply.sources!.citations;
      expect(citations.length).toBeGreaterThan(1);
      const receipt = receiptOf(reply);
      expect(isValidlySigned(receipt)).toBe(true);
      expect(receiptMutations(receipt.fields)).toHaveLength(35 + 3 * citations.length);
      expect(receipt.fields.passages).toEqual(
        citations.map((c) => ({
          id: c.wholeDocument ? c.docId : c.chunkId,
          documentSha256: sha256(readFileSync(c.path)),
          textSha256: sha256(Buffer.from(c.text, 'utf8')),
        })),
      );
    } finally {
      docs.cleanup();
    }
  });

  it('makes none when the setting is off', async () => {
    core.settings.update({ answerReceipts: false });
    try {
      const reply = await ask(core.chat.createThread().id, 'Quiet now.');
      expect(reply.receipt).toBe('none');
    } finally {
      core.settings.update({ answerReceipts: true });
    }
  });
});
