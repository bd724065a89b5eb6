import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Wallet } from 'ethers';
import { CID } from 'multiformats/cid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../src-main/core/createCore';
import { HearthError } from '../../src-main/core/common/hearthError';
import { decodeList, decodeRoot } from '../../src-main/core/vault/snapshotFormat';
import { restoreSnapshot, restoreStagingDir } from '../../src-main/core/vault/snapshotRestorer';
import { FolderTarget } from '../../src-main/core/vault/targets/folderTarget';
import { GatewayFetcher } from '../../src-main/core/vault/targets/gatewayFetcher';
import type { BlockFetcher } from '../../src-main/core/vault/types';
import { walletFromPhrase } from '../../src-main/core/vault/walletIdentity';
import type { VaultSnapshot as SnapshotInfo } from '#contract/dto';
import { startIpfsNode, type IpfsNode } from '../support/ipfsNode';
import { createLibraryCore, indexPath } from '../support/libraryCore';
import { LABELLED_QUERIES, writeCorpus } from '../support/retrievalCorpus';
import { createTestCore } from '../support/testCore';
import { tempDir } from '../support/tempDir';
import { dumpLance, dumpSqlite, readTree, seedUserData, sqliteDigest } from '../support/vaultData';

const root = resolve(__dirname, '..', '..');
const PASSPHRASE = 'correct horse battery';

async function expectCode(promise: Promise<unknown>, code: string, mentions?: string): Promise<HearthError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(HearthError);
  expect((error as HearthError).code, (error as Error).message).toBe(code);
  if (mentions) expect((error as Error).message).toContain(mentions);
  return error as HearthError;
}

/** The CIDs a snapshot's root reaches, by kind (read through a fetcher, as a restore would). */
async function snapshotBlocks(fetcher: BlockFetcher, rootCid: string) {
  const rootBlock = decodeRoot(await fetcher.get(CID.parse(rootCid)), rootCid);
  const chunks: string[] = [];
  for (const list of rootBlock.lists) chunks.push(...decodeList(await fetcher.get(list), list.toString()).map(String));
  return { root: rootCid, manifest: rootBlock.manifest.map(String), lists: rootBlock.lists.map(String), chunks };
}

function flipBit(bytes: Uint8Array, at: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[at] = copy[at]! ^ 0x01;
  return copy;
}

/** Nothing at dataDir, and no restore staging folder beside it. */
function expectNothingWritten(dataDir: string): void {
  expect(existsSync(dataDir)).toBe(false);
  const leftovers = existsSync(dirname(dataDir)) ? readdirSync(dirname(dataDir)).filter((n) => n.includes(basename(dataDir))) : [];
  expect(leftovers).toEqual([]);
}

describe('vault: snapshot a live data directory, publish to a real IPFS node, restore from the phrase and the CID', () => {
  let core: Core;
  let dataDir: string;
  let cleanupCore: () => Promise<void>;
  let node: IpfsNode;
  let phrase: string;
  let first: SnapshotInfo;
  let kuboTargetId: string;
  const docs = tempDir('hearth-vault-docs-');
  const scratch = tempDir('hearth-vault-restore-');
  let n = 0;
  let fullRestoreFetches = 0;
  let firstRestoreDigest: ReturnType<typeof sqliteDigest> = {};
  const freshDir = () => join(scratch.path, `restored-${++n}`);

  beforeAll(async () => {
    const lib = await createLibraryCore({ vault: { scryptN: 1 << 12 } });
    core = lib.core;
    dataDir = lib.dataDir;
    cleanupCore = lib.cleanup;
    writeCorpus(docs.path);
    await indexPath(core, docs.path);
    await seedUserData(core);
    phrase = (await core.vault.create({ passphrase: PASSPHRASE })).phrase;
    node = await startIpfsNode();
    kuboTargetId = (await core.vault.addTarget({ kind: 'kubo', apiUrl: node.apiUrl })).id;
    first = await core.vault.snapshot({ includeModels: true, includeDocuments: true });
    first = await core.vault.publish(first.cid, kuboTargetId);
  }, 300_000);

  afterAll(async () => {
    await node?.close();
    await cleanupCore?.();
    docs.cleanup();
    scratch.cleanup();
  });

  it('restores every row of every table and every file byte-identical, from a trustless gateway', async () => {
    expect(first.files).toBeGreaterThan(10);
    expect(first.bytes).toBeGreaterThan(10_000_000);
    expect(first.publications).toHaveLength(1);
    const target = freshDir();
    const result = await restoreSnapshot({ wallet: walletFromPhrase(phrase), root: first.cid, fetcher: new GatewayFetcher(node.gatewayUrl), dataDir: target });
    fullRestoreFetches = result.fetchedBlocks;
    expect(result.files).toBe(first.files);
    expect(result.keptAside).toBeNull();

    // SQLite: the same rows in every table (chats, messages and their full-text index, models, library, jobs, settings).
    const restored = sqliteDigest(join(target, 'hearth.db'));
    firstRestoreDigest = restored;
    expect(restored.messages?.rows).toBe(40 * 200);
    expect(restored).toEqual(sqliteDigest(join(dataDir, 'hearth.db')));

    // LanceDB: the same rows, vectors included, and the same files byte for byte.
    const lanceRows = await dumpLance(join(target, 'index'));
    expect(Object.values(lanceRows).flat().length).toBeGreaterThan(0);
    expect(lanceRows).toEqual(await dumpLance(join(dataDir, 'index')));
    expect(readTree(join(target, 'index'))).toEqual(readTree(join(dataDir, 'index')));
    // Models and source documents, byte for byte.
    expect(readTree(join(target, 'models'))).toEqual(readTree(join(dataDir, 'models')));
    const sources = readdirSync(join(target, 'sources'));
    expect(sources).toHaveLength(1);
    expect(readTree(join(target, 'sources', sources[0]!))).toEqual(readTree(docs.path));
    // Not in a snapshot: the vault itself (keystore, bookkeeping) and the machine's secrets.
    expect(existsSync(join(target, 'vault'))).toBe(false);
    expect(existsSync(join(target, 'secret.key'))).toBe(false);
  });

  it('the restored directory opens in Hearth: chats, the model that moved with it, document search', async () => {
    const target = join(scratch.path, 'restored-1');
    const restored = createTestCore({ dataDir: target });
    try {
      const models = await restored.core.models.list();
      const live = await core.models.list();
      const tiny = live.find((m) => m.path.startsWith(dataDir))!;
      const moved = models.find((m) => m.id === tiny.id)!;
      expect(moved.present).toBe(true);
      expect(moved.path).toBe(join(target, 'models', basename(tiny.path)));
      expect(models).toHaveLength(live.length);
      expect(restored.core.chat.listThreads()).toHaveLength(core.chat.listThreads().length);
      const { query, expected } = LABELLED_QUERIES[0]!;
      const hits = await restored.core.library.search({ query, mode: 'bm25' });
      expect(hits[0]?.path.endsWith(expected)).toBe(true);
    } finally {
      await restored.core.dispose();
    }
  });

  it('a new machine carries on from the restored snapshot: its next snapshot is incremental and chains', async () => {
    const target = freshDir();
    await restoreSnapshot({ wallet: walletFromPhrase(phrase), root: first.cid, fetcher: new GatewayFetcher(node.gatewayUrl), dataDir: target, keepBlocks: true });
    const other = createTestCore({ dataDir: target, vault: { scryptN: 1 << 12 } });
    try {
      await other.core.vault.import({ phrase, passphrase: 'another passphrase' });
      const adopted = other.core.vault.snapshots();
      expect(adopted.map((s) => s.cid)).toEqual([first.cid]);
      other.core.chat.createThread('Written on the new machine');
      const next = await other.core.vault.snapshot({ includeModels: true, includeDocuments: true });
      expect(next.previous).toBe(first.cid);
      expect(next.newBytes / next.storedBytes).toBeLessThan(0.01);
      // And it restores, with the new chat, from this machine's own blocks.
      const again = freshDir();
      await restoreSnapshot({ wallet: walletFromPhrase(phrase), root: next.cid, fetcher: other.core.vault['blocks'], dataDir: again });
      expect(sqliteDigest(join(again, 'hearth.db')).threads!.rows).toBe(sqliteDigest(join(target, 'hearth.db')).threads!.rows);
    } finally {
      await other.core.dispose();
    }
  });

  it('a second snapshot of unchanged data, taken as a job, publishes less than 1% of the first', async () => {
    const job = core.vault.startSnapshot({ includeModels: true, includeDocuments: true, targetId: kuboTargetId });
    const done = await core.jobs.wait(job.id);
    expect(done.status, done.error?.message).toBe('completed');
    const [second] = core.vault.snapshots();
    expect(second!.cid).not.toBe(first.cid);
    expect(second!.previous).toBe(first.cid);
    const firstCar = first.publications[0]!.carBytes;
    const secondCar = second!.publications[0]!.carBytes;
    expect(secondCar / firstCar).toBeLessThan(0.01);
    expect(second!.newBytes / first.storedBytes).toBeLessThan(0.01);
  });

  it('a wrong recovery phrase is WRONG_PASSPHRASE and writes nothing', async () => {
    const target = freshDir();
    const other = Wallet.createRandom().mnemonic!.phrase;
    await expectCode(restoreSnapshot({ wallet: walletFromPhrase(other), root: first.cid, fetcher: new GatewayFetcher(node.gatewayUrl), dataDir: target }), 'WRONG_PASSPHRASE');
    expectNothingWritten(target);
    // A phrase with a typo is not a phrase at all.
    expect(() => walletFromPhrase(phrase.replace(/^\w+/, 'zzzz'))).toThrow(/not a valid recovery phrase/);
  });

  it('one flipped bit in any block is an integrity error naming the block, and nothing is written', async () => {
    const gateway = new GatewayFetcher(node.gatewayUrl);
    const blocks = await snapshotBlocks(gateway, first.cid);
    expect(blocks.chunks.length).toBeGreaterThan(100);
    // Every kind of block; chunk blocks at the start, the middle and the end of the list.
    const picks = [
      blocks.root,
      ...blocks.manifest,
      ...blocks.lists,
      blocks.chunks[0]!,
      blocks.chunks[Math.floor(blocks.chunks.length / 2)]!,
      blocks.chunks.at(-1)!,
    ];
    for (const cid of picks) {
      const original = await gateway.get(CID.parse(cid));
      node.replace(cid, flipBit(original, Math.floor(original.length / 3)));
      const target = freshDir();
      try {
        await expectCode(restoreSnapshot({ wallet: walletFromPhrase(phrase), root: first.cid, fetcher: gateway, dataDir: target }), 'INTEGRITY_ERROR', cid);
        expectNothingWritten(target);
      } finally {
        node.replace(cid, original);
      }
    }
  });

  it('a gateway that answers with a different (valid) block is rejected', async () => {
    const gateway = new GatewayFetcher(node.gatewayUrl);
    const { chunks } = await snapshotBlocks(gateway, first.cid);
    const victim = chunks[5]!;
    const original = await gateway.get(CID.parse(victim));
    node.replace(victim, await gateway.get(CID.parse(chunks[6]!)));
    const target = freshDir();
    try {
      await expectCode(restoreSnapshot({ wallet: walletFromPhrase(phrase), root: first.cid, fetcher: gateway, dataDir: target }), 'INTEGRITY_ERROR', victim);
      expectNothingWritten(target);
    } finally {
      node.replace(victim, original);
    }
  });

  it('a truncated or bit-flipped CAR on a USB folder is refused, naming the file or the block', async () => {
    const usb = tempDir('hearth-vault-usb-');
    try {
      const folderTarget = await core.vault.addTarget({ kind: 'folder', path: usb.path });
      const published = await core.vault.publish(first.cid, folderTarget.id);
      const car = published.publications.find((p) => p.targetId === folderTarget.id)!.location;
      const bytes = readFileSync(car);

      writeFileSync(car, flipBit(bytes, Math.floor(bytes.length * 0.6)));
      let target = freshDir();
      await expectCode(restoreSnapshot({ wallet: walletFromPhrase(phrase), root: first.cid, fetcher: new FolderTarget(usb.path).fetcher(), dataDir: target }), 'INTEGRITY_ERROR');
      expectNothingWritten(target);

      writeFileSync(car, bytes);
      truncateSync(car, Math.floor(bytes.length / 2));
      target = freshDir();
      // The root block sits in the lost half: the error names the CAR and says it is truncated.
      const lost = await expectCode(restoreSnapshot({ wallet: walletFromPhrase(phrase), root: first.cid, fetcher: new FolderTarget(usb.path).fetcher(), dataDir: target }), 'NOT_FOUND', basename(car));
      expect(lost.message).toContain('truncated');
      expectNothingWritten(target);

      // Intact again: the folder restores, and without a CID the signed pointer names the latest snapshot.
      writeFileSync(car, bytes);
      target = freshDir();
      const result = await core.vault.restore({ wallet: walletFromPhrase(phrase), cid: null, from: { kind: 'target', targetId: folderTarget.id }, dataDir: target });
      expect(result.root).toBe(first.cid);
      expect(dumpSqlite(join(target, 'hearth.db')).threads).toEqual(dumpSqlite(join(dataDir, 'hearth.db')).threads);
      core.vault.removeTarget({ targetId: folderTarget.id });
    } finally {
      usb.cleanup();
    }
  });

  it('the IPFS node keeps the pointer: restore from the phrase alone finds the latest snapshot', async () => {
    const latest = core.vault.snapshots()[0]!;
    const target = freshDir();
    const result = await core.vault.restore({ wallet: walletFromPhrase(phrase), cid: null, from: { kind: 'target', targetId: kuboTargetId }, dataDir: target });
    expect(result.root).toBe(latest.cid);
  });

  it('a restore killed midway (kill -9) resumes where it stopped and fetches only what it lacked', async () => {
    const target = freshDir();
    const phraseFile = join(scratch.path, 'phrase.txt');
    writeFileSync(phraseFile, phrase);
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'tests', 'support', 'restoreChild.ts'), node.gatewayUrl, first.cid, target, phraseFile, '3'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((done, fail) => {
      let buffer = '';
      child.stdout.on('data', (d: Buffer) => {
        buffer += d.toString();
        const last = buffer.trim().split('\n').at(-1) ?? '';
        const [, doneBytes, total] = last.split(' ').map(Number);
        if (doneBytes && total && doneBytes / total > 0.5) {
          child.kill('SIGKILL');
          done();
        }
      });
      child.on('exit', () => fail(new Error(`restore child ended before it was killed: ${stderr}`)));
    });
    await new Promise((done) => child.once('close', done));
    expect(existsSync(target)).toBe(false);
    expect(existsSync(restoreStagingDir(target, first.cid))).toBe(true);

    // What the killed run had saved: whole files, and the chunks of the file it was writing.
    const saved = JSON.parse(readFileSync(join(restoreStagingDir(target, first.cid), 'restore-progress.json'), 'utf8')) as {
      done: string[];
      current: { chunks: number } | null;
    };
    expect(saved.done.length + (saved.current?.chunks ?? 0)).toBeGreaterThan(20);
    const result = await restoreSnapshot({ wallet: walletFromPhrase(phrase), root: first.cid, fetcher: new GatewayFetcher(node.gatewayUrl), dataDir: target });
    expect(result.fetchedBlocks).toBeLessThanOrEqual(fullRestoreFetches - (saved.current?.chunks ?? 0));
    expect(sqliteDigest(join(target, 'hearth.db'))).toEqual(firstRestoreDigest);
    expect(readTree(join(target, 'models'))).toEqual(readTree(join(dataDir, 'models')));
    expect(existsSync(restoreStagingDir(target, first.cid))).toBe(false);
  }, 180_000);

  it('never overwrites a data directory: what was there is kept aside', async () => {
    const target = freshDir();
    mkdirSync(target);
    writeFileSync(join(target, 'precious.txt'), 'keep me');
    const result = await restoreSnapshot({ wallet: walletFromPhrase(phrase), root: first.cid, fetcher: new GatewayFetcher(node.gatewayUrl), dataDir: target });
    expect(result.keptAside).not.toBeNull();
    expect(readFileSync(join(result.keptAside!, 'precious.txt'), 'utf8')).toBe('keep me');
    expect(existsSync(join(target, 'hearth.db'))).toBe(true);
    expect(existsSync(join(target, 'precious.txt'))).toBe(false);
  });

  it('a snapshot taken while chat generates and indexing writes restores to a consistent directory', async () => {
    const more = tempDir('hearth-vault-more-');
    try {
      for (let i = 0; i < 40; i++) {
        writeFileSync(join(more.path, `note-${i}.md`), `# Note ${i}\n\n${'The lighthouse keeper logs the weather every hour. '.repeat(30 + i)}\n`);
      }
      core.settings.update({ maxReplyTokens: 200 });
      const collection = core.library.ensureCollection('More');
      const { job } = core.library.addSource(collection.id, more.path);
      const thread = core.chat.createThread('While snapshotting');
      await core.chat.send(thread.id, 'Once upon a time');
      const snapshot = await core.vault.snapshot({ includeModels: false, includeDocuments: false });
      const indexed = await core.jobs.wait(job.id);
      await core.chat.idle(thread.id);
      expect(indexed.status).toBe('completed');

      // The restore checks every table's row count against the counts taken at capture.
      const target = freshDir();
      const result = await restoreSnapshot({ wallet: walletFromPhrase(phrase), root: snapshot.cid, fetcher: core.vault['blocks'], dataDir: target });
      expect(result.manifest.counts.sqlite.messages).toBeGreaterThan(40 * 200);
      const restoredDb = dumpSqlite(join(target, 'hearth.db'));
      expect(restoredDb.threads!.length).toBe(result.manifest.counts.sqlite.threads);
      const lance = await dumpLance(join(target, 'index'));
      for (const [table, rows] of Object.entries(lance)) expect(rows.length, table).toBe(result.manifest.counts.lance[table]);
      expect(statSync(join(target, 'hearth.db')).size).toBeGreaterThan(0);
    } finally {
      more.cleanup();
    }
    // Every wait above is for an event (the job's end, the reply's end); the time goes to the
    // indexing of the 40 notes, mostly its vector commits (a LanceDB merge-insert and an FTS
    // refresh every 2 s). The whole test takes 26-42 s in a full CI run on 2 cores; with the
    // machine loaded (load average 12-15) the indexing alone took 62 s, 151 s and over 180 s.
  }, 300_000);

  it('the wallet: wrong passphrase, reveal, lock; a locked vault does not snapshot', async () => {
    await expectCode(core.vault.revealPhrase({ passphrase: 'not the passphrase' }), 'WRONG_PASSPHRASE');
    expect(await core.vault.revealPhrase({ passphrase: PASSPHRASE })).toEqual({ phrase });
    await core.vault.lock();
    expect((await core.vault.status()).state).toBe('locked');
    await expectCode(core.vault.snapshot({ includeModels: false, includeDocuments: false }), 'VAULT_LOCKED');
    await expectCode(core.vault.unlock({ passphrase: 'not the passphrase' }), 'WRONG_PASSPHRASE');
    expect((await core.vault.unlock({ passphrase: PASSPHRASE })).state).toBe('unlocked');
    const keystore = readFileSync(join(dataDir, 'vault', 'keystore.json'), 'utf8');
    const key = walletFromPhrase(phrase).privateKey.slice(2);
    expect(keystore).not.toContain(key);
    expect(keystore).not.toContain(phrase.split(' ')[0]! + ' ' + phrase.split(' ')[1]!);
  });
});
