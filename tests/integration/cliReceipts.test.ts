import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceiptSigning } from '#contract/dto';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { createCore } from '../../src-main/core/createCore';
import { parseReceipt, recoverSigner } from '../../src-main/core/receipts/receiptFormat';
import { assertBuilt, runHearth, type HearthRun } from '../support/server';
import { tempDir } from '../support/tempDir';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../support/testCore';
import { testModelPath } from '../support/testModels';

const PASSPHRASE = 'sign these later';

/** `hearth vault sign`: the built CLI signs the receipts a locked vault left unsigned. */
describe('hearth vault sign from the command line', { timeout: 120_000 }, () => {
  const data = tempDir('hearth-cli-receipts-');
  let address = '';
  let plain = '';
  let broken = '';
  let removed = '';

  const run = (args: string[], passphrase: string | null = PASSPHRASE): Promise<HearthRun> => {
    const env: NodeJS.ProcessEnv = { ...process.env, HEARTH_LOG: 'warn' };
    delete env.HEARTH_DATA_DIR;
    delete env.HEARTH_VAULT_PASSPHRASE;
    if (passphrase !== null) env.HEARTH_VAULT_PASSPHRASE = passphrase;
    return runHearth(['vault', 'sign', ...args, '--data-dir', data.path], env);
  };

  /** Each reply's signer as its stored receipt says (null: unsigned), in order. */
  const signers = (threadId: string): (string | null)[] => {
    const db = new BetterSqlite3(join(data.path, 'hearth.db'), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare("SELECT id, receipt_json AS json FROM messages WHERE thread_id = ? AND role = 'assistant' ORDER BY seq").all(threadId) as { id: string; json: string }[];
      return rows.map((row) => {
        const receipt = parseReceipt(JSON.parse(row.json), row.id);
        return receipt.signature ? recoverSigner(receipt) : null;
      });
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    assertBuilt();
    const seed = createCore(
      { dataDir: data.path, host: 'server', version: 'test', gpu: 'off', threads: 1, catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH, library: { watch: false }, vault: { scryptN: 1 << 12 } },
      { logger: createConsoleLogger('error') },
    );
    try {
      const model = await seed.models.add(await testModelPath('stories260K'));
      await seed.runner.load(model.id, { contextSize: 512 });
      seed.settings.update({ maxReplyTokens: 8, temperature: 0 });
      ({ address } = await seed.vault.create({ passphrase: PASSPHRASE }));
      await seed.vault.lock();
      const ask = async (threadId: string, question: string) => {
        const { assistantMessageId } = await seed.chat.send(threadId, question);
        await seed.chat.idle(threadId);
        return assistantMessageId;
      };
      plain = seed.chat.createThread('Plain').id;
      await ask(plain, 'Once upon a time');
      await ask(plain, 'Then?');
      broken = seed.chat.createThread('Broken').id;
      await ask(broken, 'A cat sat.');
      removed = await ask(broken, 'Where?');
      await ask(broken, 'And then?');
      // A reply removed behind Hearth's back: the one after it no longer chains.
      seed.db.prepare('DELETE FROM messages WHERE id = ?').run(removed);
    } finally {
      await seed.dispose();
    }
  });
  afterAll(() => data.cleanup());

  it('needs the passphrase when it is not remembered', async () => {
    const result = await run([], null);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/VAULT_LOCKED/);
    expect(signers(plain)).toEqual([null, null]);
  });

  it("signs one chat's receipts with --thread", async () => {
    const result = await run(['--thread', plain, '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout) as ReceiptSigning).toEqual({ signed: 2, refused: [] });
    expect(signers(plain)).toEqual([address, address]);
    expect(signers(broken)).toEqual([null, null]);
  });

  it('signs what chains and lists what does not, with exit 1', async () => {
    const result = await run([]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/Signed 1 receipt/);
    expect(result.stderr).toMatch(/not signed: msg_\w+: .*a reply was removed or changed/);
    expect(signers(broken)).toEqual([address, null]);
  });
});
