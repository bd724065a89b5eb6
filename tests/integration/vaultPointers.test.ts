import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../src-main/core/createCore';
import { HearthError } from '../../src-main/core/common/hearthError';
import { LatestPointers, writeLatestPointer } from '../../src-main/core/vault/latestPointer';
import { PointerLedger } from '../../src-main/core/vault/pointerLedger';
import { openPointer } from '../../src-main/core/vault/snapshotFormat';
import { FolderTarget } from '../../src-main/core/vault/targets/folderTarget';
import { deriveVaultKeys } from '../../src-main/core/vault/vaultKeys';
import { walletFromPhrase } from '../../src-main/core/vault/walletIdentity';
import { createTestCore } from '../support/testCore';
import { tempDir } from '../support/tempDir';

const PASSPHRASE = 'a long passphrase';

async function codeOf(promise: Promise<unknown>): Promise<HearthError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HearthError);
  return error as HearthError;
}

/**
 * The latest-snapshot record in a real folder, written by two machines (two data directories
 * holding the same wallet) and rolled back by hand: its sequence only grows, and a restore
 * without a CID refuses an older record.
 */
describe('vault: the latest-snapshot record cannot be rolled back', () => {
  const scratch = tempDir('hearth-vault-pointers-');
  const usb = join(scratch.path, 'usb');
  let a: { core: Core; dataDir: string; cleanup: () => Promise<void>; targetId: string };
  let b: { core: Core; dataDir: string; cleanup: () => Promise<void>; targetId: string };
  let phrase: string;
  let pointerFile: string;

  const wallet = () => walletFromPhrase(phrase);
  const pointerOnDisk = async () => {
    const keys = deriveVaultKeys(wallet().privateKey);
    return openPointer(keys.pointerKey, readFileSync(pointerFile), wallet().address);
  };
  const snapshotAndPublish = async (machine: typeof a, chat: string): Promise<string> => {
    machine.core.chat.createThread(chat);
    const snapshot = await machine.core.vault.snapshot({ includeModels: false, includeDocuments: false });
    await machine.core.vault.publish(snapshot.cid, machine.targetId);
    return snapshot.cid;
  };
  const restoreLatest = (machine: typeof a, into: string) =>
    machine.core.vault.restore({ wallet: wallet(), cid: null, from: { kind: 'target', targetId: machine.targetId }, dataDir: join(scratch.path, into) });

  beforeAll(async () => {
    mkdirSync(usb);
    const open = async () => {
      const test = createTestCore({ vault: { scryptN: 1 << 12 } });
      return { ...test, targetId: '' };
    };
    a = await open();
    b = await open();
    phrase = (await a.core.vault.create({ passphrase: PASSPHRASE })).phrase;
    await b.core.vault.import({ phrase, passphrase: PASSPHRASE });
    a.targetId = (await a.core.vault.addTarget({ kind: 'folder', path: usb })).id;
    b.targetId = (await b.core.vault.addTarget({ kind: 'folder', path: usb })).id;
    pointerFile = join(usb, 'hearth-vault', 'pointers', deriveVaultKeys(wallet().privateKey).pointerName);
  });

  afterAll(async () => {
    await a?.cleanup();
    await b?.cleanup();
    scratch.cleanup();
  });

  it('two machines publishing to one folder: each record is one past the last, whoever wrote it', async () => {
    const a1 = await snapshotAndPublish(a, 'a1');
    expect(await pointerOnDisk()).toMatchObject({ root: a1, sequence: 1 });
    // B has published nothing there itself, yet writes 2, not 1.
    const b1 = await snapshotAndPublish(b, 'b1');
    expect(await pointerOnDisk()).toMatchObject({ root: b1, sequence: 2 });
    const a2 = await snapshotAndPublish(a, 'a2');
    expect(await pointerOnDisk()).toMatchObject({ root: a2, sequence: 3 });
    // Both machines find the newest one, whoever published it.
    expect((await restoreLatest(b, 'b-restore')).root).toBe(a2);
    expect((await restoreLatest(a, 'a-restore')).root).toBe(a2);

    // Published at the same moment: the folder's lock orders the writes, and neither is lost.
    const [a3, b2] = await Promise.all([
      a.core.vault.snapshot({ includeModels: false, includeDocuments: false }),
      b.core.vault.snapshot({ includeModels: false, includeDocuments: false }),
    ]);
    await Promise.all([a.core.vault.publish(a3.cid, a.targetId), b.core.vault.publish(b2.cid, b.targetId)]);
    const after = await pointerOnDisk();
    expect(after.sequence).toBe(5);
    expect([a3.cid, b2.cid]).toContain(after.root);
    expect(readdirSync(join(usb, 'hearth-vault', 'pointers'))).toEqual([deriveVaultKeys(wallet().privateKey).pointerName]);

    // Publishing the snapshot the record already names changes nothing.
    const publisher = after.root === a3.cid ? a : b;
    await publisher.core.vault.publish(after.root, publisher.targetId);
    expect(await pointerOnDisk()).toEqual(after);
  });

  it('an older record copied back: refused with STALE_POINTER, restorable on purpose by CID; writing never replaces a newer one', async () => {
    const old = join(scratch.path, 'old-pointer');
    const older = await snapshotAndPublish(a, 'older');
    copyFileSync(pointerFile, old);
    const newer = await snapshotAndPublish(a, 'newer');
    const newest = await pointerOnDisk();
    expect(newest.root).toBe(newer);

    // A write with a sequence not above the record there is refused, and the file is left alone.
    const bytes = readFileSync(pointerFile);
    const refused = await codeOf(writeLatestPointer(new FolderTarget(usb), wallet(), { root: older, sequence: newest.sequence }));
    expect(refused.code).toBe('STALE_POINTER');
    expect(readFileSync(pointerFile)).toEqual(bytes);

    // Someone copies the older record back into the folder.
    copyFileSync(old, pointerFile);
    expect((await pointerOnDisk()).root).toBe(older);

    // This machine saw a newer one there.
    const seen = await codeOf(restoreLatest(a, 'rolled-back'));
    expect(seen.code).toBe('STALE_POINTER');
    expect(seen.message).toContain(`this machine has already seen sequence ${newest.sequence}`);
    expect(seen.message).toContain(`--cid ${newer}`);
    expect(seen.message).toContain(`--cid ${older}`);

    // A machine that has seen nothing there: the folder holds a newer snapshot than the record names.
    const fresh = new LatestPointers(new PointerLedger(join(scratch.path, 'fresh-ledger.json')));
    const target = new FolderTarget(usb);
    const unseen = await codeOf(fresh.resolve(target, wallet(), { kind: 'folder', location: usb }, target.fetcher()));
    expect(unseen.code).toBe('STALE_POINTER');
    expect(unseen.message).toContain(`holds a newer snapshot of this wallet, ${newer}`);
    // ... and with no ledger at all (a restore on a machine without a library).
    expect((await codeOf(new LatestPointers(null).resolve(target, wallet(), null, target.fetcher()))).code).toBe('STALE_POINTER');

    // On purpose, by CID: the older snapshot restores.
    const chosen = await a.core.vault.restore({ wallet: wallet(), cid: older, from: { kind: 'target', targetId: a.targetId }, dataDir: join(scratch.path, 'chosen') });
    expect(chosen.root).toBe(older);

    // The next publish writes above both the record there and what this machine saw.
    const next = await snapshotAndPublish(a, 'after-rollback');
    expect(await pointerOnDisk()).toMatchObject({ root: next, sequence: newest.sequence + 1 });
    expect((await restoreLatest(a, 'after-rollback')).root).toBe(next);
  });

  it("takes over a lock file a crashed writer left (older than 30 s), and leaves none behind", async () => {
    const lock = `${pointerFile}.lock`;
    writeFileSync(lock, '4242@crashed-host 2026-01-01T00:00:00.000Z\n');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    const before = await pointerOnDisk();
    const root = await snapshotAndPublish(a, 'after-crash');
    expect(await pointerOnDisk()).toMatchObject({ root, sequence: before.sequence + 1 });
    expect(existsSync(lock)).toBe(false);
  });

  it("keeps what this machine saw in vault/pointers-seen.json, never lowered; a damaged file is CORRUPT_FILE", () => {
    const file = join(scratch.path, 'ledger', 'pointers-seen.json');
    const ledger = new PointerLedger(file);
    const key = PointerLedger.key('abcdef0123456789', 'folder', usb);
    expect(ledger.seen(key)).toBeNull();
    ledger.record(key, { root: 'bafy-two', sequence: 2, createdAt: '2026-01-02T00:00:00.000Z' });
    ledger.record(key, { root: 'bafy-one', sequence: 1, createdAt: '2026-01-03T00:00:00.000Z' });
    expect(ledger.seen(key)).toEqual({ root: 'bafy-two', sequence: 2, createdAt: '2026-01-02T00:00:00.000Z' });
    ledger.record(key, { root: 'bafy-three', sequence: 3, createdAt: '2026-01-01T00:00:00.000Z' });
    expect(new PointerLedger(file).seen(key)?.root).toBe('bafy-three');
    expect(readdirSync(join(scratch.path, 'ledger'))).toEqual(['pointers-seen.json']);
    writeFileSync(file, '{"version":1,"seen":{"x":{"root":1}}}');
    expect(() => ledger.seen(key)).toThrow(expect.objectContaining({ code: 'CORRUPT_FILE' }));
    // The machines of the test above keep theirs in their vault folder.
    expect(readdirSync(join(a.dataDir, 'vault'))).toContain('pointers-seen.json');
  });
});
