import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatStreamEvent } from '#contract/dto';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { createCore, type Core } from '../../src-main/core/createCore';
import { isValidlySigned } from '../../src-main/core/receipts/receiptFormat';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../support/testCore';
import { testModelPath } from '../support/testModels';
import { mountTmpfs, type Tmpfs } from '../support/tmpfs';

/** A reply whose save fails (a full disk) keeps its receipt, and the next reply chains to it. */
describe('answer receipts on a full disk (a real 20 MB tmpfs)', () => {
  let disk: Tmpfs;
  let core: Core;
  const events: ChatStreamEvent[] = [];

  beforeAll(async () => {
    disk = mountTmpfs(20);
    core = createCore(
      { dataDir: join(disk.path, 'data'), host: 'server', version: 'test', gpu: 'off', threads: 1, catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH,
        library: { watch: false }, vault: { scryptN: 1 << 12 } },
      { logger: createConsoleLogger('silent') },
    );
    core.events.on('chat.stream', (event) => events.push(event));
    const model = await core.models.add(await testModelPath('stories260K'));
    await core.runner.load(model.id, { contextSize: 512 });
    core.settings.update({ maxReplyTokens: 24, temperature: 0 });
    await core.vault.create({ passphrase: 'full disk receipts' });
  });
  afterAll(async () => {
    try {
      disk?.free();
      await core?.dispose();
    } finally {
      disk?.unmount();
    }
  });

  const row = (id: string) => core.db.prepare('SELECT status, receipt_json IS NOT NULL AS kept FROM messages WHERE id = ?').get(id) as { status: string; kept: number };

  it('keeps the receipt with the unsaved reply, chains the next one to it, and saves both', async () => {
    const thread = core.chat.createThread();
    const { assistantMessageId: first } = await core.chat.send(thread.id, 'Once upon a time');
    await core.chat.idle(thread.id);
    expect(row(first)).toEqual({ status: expect.stringMatching(/complete|length/) as string, kept: 1 });

    const { assistantMessageId: second } = await core.chat.send(thread.id, 'Then what?');
    disk.fill();
    await core.chat.idle(thread.id);
    const end = events.find((event) => event.type === 'end' && event.message.id === second);
    if (end?.type !== 'end') throw new Error('the reply sent no end event');
    expect(end.saveError?.code).toBe('DISK_FULL');
    expect(end.message.receipt).toBe('signed');
    expect(core.chat.getThread(thread.id).messages.at(-1)).toMatchObject({ id: second, receipt: 'signed' });

    // Space returns; the kept reply waits for the next successful write, so the next reply is made
    // while its predecessor's receipt is still only in memory.
    disk.free();
    const { assistantMessageId: third } = await core.chat.send(thread.id, 'And then?');
    expect(row(second)).toEqual({ status: 'streaming', kept: 0 });
    await core.chat.idle(thread.id);

    expect(row(second)).toEqual({ status: end.message.status, kept: 1 });
    const [a, b, c] = [first, second, third].map((id) => core.receipts.read(id)!);
    expect(b!.fields.previousReceipt).toBe(a!.hash);
    expect(c!.fields.previousReceipt).toBe(b!.hash);
    expect([a, b, c].every((receipt) => isValidlySigned(receipt!))).toBe(true);
  });
});
