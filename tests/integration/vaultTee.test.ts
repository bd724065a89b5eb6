import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../src-main/core/createCore';
import { CarBlockIndex } from '../../src-main/core/vault/carFile';
import { restoreSnapshot } from '../../src-main/core/vault/snapshotRestorer';
import { FolderTarget } from '../../src-main/core/vault/targets/folderTarget';
import type { VaultRepository } from '../../src-main/core/vault/vaultRepository';
import { walletFromPhrase } from '../../src-main/core/vault/walletIdentity';
import { createTestCore } from '../support/testCore';
import { tempDir } from '../support/tempDir';
import { readTree } from '../support/vaultData';

const MiB = 1024 * 1024;
const MODEL_BYTES = 12 * MiB;

/** Every block file in the local block store, by name. */
function localBlocks(dataDir: string): Set<string> {
  const root = join(dataDir, 'vault', 'blocks');
  if (!existsSync(root)) return new Set();
  return new Set(readdirSync(root).flatMap((fan) => readdirSync(join(root, fan))));
}

/** The blocks each CAR in the folder holds, by file name. */
async function carsIn(folder: string): Promise<Map<string, Set<string>>> {
  const dir = join(folder, 'hearth-vault', 'cars');
  const out = new Map<string, Set<string>>();
  for (const name of readdirSync(dir).sort()) {
    const index = await CarBlockIndex.open([join(dir, name)]);
    const cids = new Set<string>();
    try {
      for (const cid of index['entries'].keys()) cids.add(cid);
    } finally {
      await index.close();
    }
    out.set(name, cids);
  }
  return out;
}

/**
 * `vault snapshot --publish` to a folder: each block goes into the folder's CAR as it is sealed
 * (no read-back), the CAR holds exactly what the target lacked, the pointer and the publication
 * are recorded, and with keepModelBlocks off the model chunks never land in vault/blocks.
 */
describe('vault: a snapshot published to a folder in the same command', () => {
  let core: Core;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  let phrase: string;
  let repo: VaultRepository;
  const usb = tempDir('hearth-vault-tee-usb-');
  const scratch = tempDir('hearth-vault-tee-');
  let usbId: string;

  const snapshotAndPublish = async () => {
    const job = core.vault.startSnapshot({ includeModels: true, includeDocuments: false, targetId: usbId });
    const done = await core.jobs.wait(job.id);
    expect(done.status, done.error?.message).toBe('completed');
    return core.vault.snapshots()[0]!;
  };
  const restoreFromFolder = async (cid: string, name: string) => {
    const into = join(scratch.path, name);
    await restoreSnapshot({ wallet: walletFromPhrase(phrase), root: cid, fetcher: new FolderTarget(usb.path).fetcher(), dataDir: into });
    expect(readTree(join(into, 'models'))).toEqual(readTree(join(dataDir, 'models')));
  };
  const blockKeys = async (cids: Iterable<string>) => {
    // CarBlockIndex keys blocks by multihash; the same key for a CID string.
    const { CID } = await import('multiformats/cid');
    return new Set([...cids].map((cid) => Buffer.from(CID.parse(cid).multihash.bytes).toString('base64')));
  };

  beforeAll(async () => {
    ({ core, dataDir, cleanup } = createTestCore({ vault: { scryptN: 1 << 12 } }));
    for (let i = 0; i < 5; i++) core.chat.createThread(`Chat ${i}`);
    phrase = (await core.vault.create({ passphrase: 'a long passphrase' })).phrase;
    mkdirSync(join(dataDir, 'models'), { recursive: true });
    writeFileSync(join(dataDir, 'models', 'model.gguf'), randomBytes(MODEL_BYTES));
    writeFileSync(join(dataDir, 'models', 'small.json'), randomBytes(900));
    usbId = (await core.vault.addTarget({ kind: 'folder', path: usb.path, name: 'USB' })).id;
    repo = core.vault['repo'] as VaultRepository;
  });

  afterAll(async () => {
    await cleanup?.();
    usb.cleanup();
    scratch.cleanup();
  });

  it('the CAR holds every block of the first snapshot, each also kept here; pointer and publication recorded', async () => {
    core.vault.setSchedule({ keepModelBlocks: true });
    const outbox = join(dataDir, 'vault', 'outbox');
    const snapshot = await snapshotAndPublish();
    expect(existsSync(outbox) ? readdirSync(outbox) : []).toEqual([]);
    expect(snapshot.publications).toHaveLength(1);
    const cars = await carsIn(usb.path);
    expect([...cars.keys()]).toEqual([`${snapshot.cid}.car`]);
    const blocks = repo.snapshotBlocks(snapshot.cid);
    expect(cars.get(`${snapshot.cid}.car`)).toEqual(await blockKeys(blocks));
    expect(snapshot.publications[0]!.carBytes).toBe(statSync(join(usb.path, 'hearth-vault', 'cars', `${snapshot.cid}.car`)).size);
    expect(localBlocks(dataDir)).toEqual(new Set(blocks));
    // The pointer names it: a restore from the phrase alone finds it.
    const viaPointer = await core.vault.restore({ wallet: walletFromPhrase(phrase), cid: null, from: { kind: 'target', targetId: usbId }, dataDir: join(scratch.path, 'pointer') });
    expect(viaPointer.root).toBe(snapshot.cid);
    await restoreFromFolder(snapshot.cid, 'first');
    expect(await core.vault.check()).toMatchObject({ ok: true, orphans: { count: 0 }, tempFiles: { count: 0 }, leftovers: [] });
  }, 60_000);

  it('the next CAR holds what the folder lacked: the new blocks and those of a snapshot never published there', async () => {
    // A snapshot kept here only, with a model file changed...
    writeFileSync(join(dataDir, 'models', 'model.gguf'), randomBytes(MODEL_BYTES));
    const unpublished = await core.vault.snapshot({ includeModels: true, includeDocuments: false });
    // ...then one published, sharing that model's chunks.
    core.chat.createThread('One more');
    const snapshot = await snapshotAndPublish();
    const blocks = new Set(repo.snapshotBlocks(snapshot.cid));
    const first = core.vault.snapshots().find((s) => s.publications.length > 0 && s.cid !== snapshot.cid)!;
    const expected = [...blocks].filter((cid) => !repo.snapshotBlocks(first.cid).includes(cid));
    expect(expected.some((cid) => repo.snapshotBlocks(unpublished.cid).includes(cid))).toBe(true);
    const cars = await carsIn(usb.path);
    expect(cars.get(`${snapshot.cid}.car`)).toEqual(await blockKeys(expected));
    await restoreFromFolder(snapshot.cid, 'second');
  }, 60_000);

  it('with keepModelBlocks off the model chunks go to the folder only, never into vault/blocks, and are recorded as held there', async () => {
    core.vault.setSchedule({ keepModelBlocks: false });
    writeFileSync(join(dataDir, 'models', 'model.gguf'), randomBytes(MODEL_BYTES));
    const before = localBlocks(dataDir);
    const snapshot = await snapshotAndPublish();
    const remote = repo.remoteBlocks();
    const added = [...localBlocks(dataDir)].filter((cid) => !before.has(cid));
    const addedBytes = added.reduce((sum, cid) => sum + statSync(join(dataDir, 'vault', 'blocks', cid.slice(-2), cid)).size, 0);
    expect(addedBytes).toBeLessThan(MODEL_BYTES / 10);
    const modelChunks = repo.snapshotBlocks(snapshot.cid).filter((cid) => remote.has(cid));
    expect(modelChunks.length).toBeGreaterThanOrEqual(MODEL_BYTES / (2 * MiB));
    for (const cid of modelChunks) expect(remote.has(cid) && !localBlocks(dataDir).has(cid)).toBe(true);
    await restoreFromFolder(snapshot.cid, 'lean');
    expect(await core.vault.check()).toMatchObject({ ok: true, problems: [], tempFiles: { count: 0 }, leftovers: [] });
    // The next snapshot neither reads nor seals the model again.
    core.chat.createThread('And another');
    const next = await snapshotAndPublish();
    expect(next.newBytes).toBeLessThan(MiB);
    await restoreFromFolder(next.cid, 'lean-next');
  }, 60_000);

  it('a folder that goes away during the snapshot: with model blocks kept here it is recorded and the publish fails; with them on the folder only nothing is recorded', async () => {
    const away = `${usb.path}-unplugged`;
    const unplugWhileSealing = async (): Promise<{ code?: string; recorded: boolean }> => {
      writeFileSync(join(dataDir, 'models', 'model.gguf'), randomBytes(MODEL_BYTES));
      const count = core.vault.snapshots().length;
      let unplugged = false;
      const run = core.vault.snapshotAndPublish({ includeModels: true, includeDocuments: false }, usbId, {
        onProgress: (fraction) => {
          if (!unplugged && (fraction ?? 0) > 0.3) {
            unplugged = true;
            renameSync(usb.path, away);
          }
        },
      });
      const error = (await run.then(() => null, (e: unknown) => e)) as { code?: string } | null;
      renameSync(away, usb.path);
      expect(unplugged).toBe(true);
      return { code: error?.code, recorded: core.vault.snapshots().length === count + 1 };
    };
    core.vault.setSchedule({ keepModelBlocks: true });
    expect(await unplugWhileSealing()).toEqual({ code: 'TARGET_NOT_FOUND', recorded: true });
    const kept = core.vault.snapshots()[0]!;
    expect(kept.publications).toEqual([]);
    expect(await core.vault.check()).toMatchObject({ ok: true, problems: [], orphans: { count: 0 }, tempFiles: { count: 0 } });
    // Plugged in again, the separate publish sends it.
    expect((await core.vault.publish(kept.cid, usbId)).publications).toHaveLength(1);
    await restoreFromFolder(kept.cid, 'after-unplug');

    core.vault.setSchedule({ keepModelBlocks: false });
    expect(await unplugWhileSealing()).toEqual({ code: 'TARGET_NOT_FOUND', recorded: false });
    expect(await core.vault.check()).toMatchObject({ ok: true, problems: [], orphans: { count: 0 }, tempFiles: { count: 0 } });

    // Unplugged before it starts: the snapshot is taken here all the same, and the publish says why it failed.
    renameSync(usb.path, away);
    const count = core.vault.snapshots().length;
    try {
      await expect(core.vault.snapshotAndPublish({ includeModels: true, includeDocuments: false }, usbId)).rejects.toMatchObject({ code: 'TARGET_NOT_FOUND' });
    } finally {
      renameSync(away, usb.path);
    }
    expect(core.vault.snapshots()).toHaveLength(count + 1);
  }, 90_000);

  it('a snapshot that fails midway leaves nothing in the folder and records nothing', async () => {
    writeFileSync(join(dataDir, 'models', 'model.gguf'), randomBytes(MODEL_BYTES));
    const cars = readdirSync(join(usb.path, 'hearth-vault', 'cars')).sort();
    const count = core.vault.snapshots().length;
    const before = localBlocks(dataDir);
    const controller = new AbortController();
    const run = core.vault.snapshotAndPublish({ includeModels: true, includeDocuments: false }, usbId, {
      signal: controller.signal,
      onProgress: (fraction) => {
        if ((fraction ?? 0) > 0.3) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(readdirSync(join(usb.path, 'hearth-vault', 'cars')).sort()).toEqual(cars);
    expect(core.vault.snapshots()).toHaveLength(count);
    expect(localBlocks(dataDir)).toEqual(before);
  }, 60_000);
});
