import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../src-main/core/createCore';
import { restoreSnapshot } from '../../src-main/core/vault/snapshotRestorer';
import { GatewayFetcher } from '../../src-main/core/vault/targets/gatewayFetcher';
import { walletFromPhrase } from '../../src-main/core/vault/walletIdentity';
import { createTestCore } from '../support/testCore';
import { tempDir } from '../support/tempDir';
import { sqliteDigest } from '../support/vaultData';
import { startW3upService, type W3upService } from '../support/w3upService';

/** The vault as the app drives it: web3.storage through the core, the schedule, retention, a remembered passphrase. */
describe('vault service', () => {
  let service: W3upService;
  let core: Core;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  let phrase: string;
  const scratch = tempDir('hearth-vault-service-');

  beforeAll(async () => {
    service = await startW3upService();
    const test = createTestCore({
      vault: {
        scryptN: 1 << 12,
        w3up: { serviceUrl: service.url, serviceDid: service.did, receiptsEndpoint: service.receiptsEndpoint, gatewayUrl: service.gatewayUrl, gatewayDid: service.did },
      },
    });
    ({ core, dataDir, cleanup } = test);
    for (let i = 0; i < 5; i++) core.chat.createThread(`Chat ${i}`);
    phrase = (await core.vault.create({ passphrase: 'a long passphrase' })).phrase;
  });

  afterAll(async () => {
    await core?.dispose();
    await cleanup?.();
    await service?.close();
    scratch.cleanup();
  });

  it('publishes to web3.storage (email login, a space) and restores from its gateway', async () => {
    const adding = core.vault.addTarget({ kind: 'w3up', email: 'alice@example.com', space: 'Hearth backups' });
    await service.confirmLogin('alice@example.com');
    const target = await adding;
    expect(target).toMatchObject({ kind: 'w3up', keepsPointer: false });
    expect(target.location).toMatch(/^did:key:/);

    const job = core.vault.startSnapshot({ targetId: target.id });
    const done = await core.jobs.wait(job.id);
    expect(done.status, done.error?.message).toBe('completed');
    const [snapshot] = core.vault.snapshots();
    expect(snapshot!.publications).toMatchObject([{ targetId: target.id, kind: 'w3up', location: target.location }]);
    // The space lists the upload by the snapshot's root.
    expect((await core.vault.uploads(target.id)).map((u) => u.root)).toContain(snapshot!.cid);

    const restored = join(scratch.path, 'from-w3up');
    await restoreSnapshot({ wallet: walletFromPhrase(phrase), root: snapshot!.cid, fetcher: new GatewayFetcher(service.gatewayUrl), dataDir: restored });
    expect(sqliteDigest(join(restored, 'hearth.db')).threads).toEqual(sqliteDigest(join(dataDir, 'hearth.db')).threads);

    // Restore through the core: w3up keeps no pointer, so a CID is required.
    const job2 = core.vault.startRestore({ phrase, from: { kind: 'target', targetId: target.id }, dataDir: join(scratch.path, 'no-cid') });
    const failed = await core.jobs.wait(job2.id);
    expect(failed.status).toBe('failed');
    expect(failed.error?.message).toMatch(/give the snapshot CID/);
  });

  it('the schedule snapshots when due, only while unlocked, and keeps the newest N', async () => {
    const usb = join(scratch.path, 'usb');
    mkdirSync(usb);
    const folder = await core.vault.addTarget({ kind: 'folder', path: usb });
    core.vault.setSchedule({ intervalHours: 1, targetId: folder.id, keep: 2 });
    const status = await core.vault.status();
    expect(status.schedule).toMatchObject({ intervalHours: 1, targetId: folder.id, keep: 2 });
    const last = status.lastSnapshot!;
    expect(status.nextSnapshotAt).toBe(last.createdAt + 3_600_000);

    // Not yet due.
    expect(await core.vault.runSchedule(last.createdAt + 10 * 60_000)).toBeNull();
    const blocksBefore = listBlocks(dataDir).length;
    for (let i = 1; i <= 3; i++) {
      core.chat.createThread(`Later ${i}`);
      const job = await core.vault.runSchedule(Date.now() + i * 3_600_000);
      expect(job).not.toBeNull();
      const done = await core.jobs.wait(job!.id);
      expect(done.status, done.error?.message).toBe('completed');
    }
    const kept = core.vault.snapshots();
    expect(kept).toHaveLength(2);
    // Retention is local: the folder still holds every snapshot published to it.
    expect((await core.vault.uploads(folder.id)).map((u) => u.root).sort()).toEqual(
      expect.arrayContaining(kept.map((s) => s.cid)),
    );
    expect(await core.vault.uploads(folder.id)).toHaveLength(3);
    expect(kept.every((s) => s.publications.some((p) => p.targetId === folder.id))).toBe(true);
    // The older snapshots' blocks that no kept snapshot shares are gone from this machine.
    const repo = core.vault['repo'];
    const needed = new Set(kept.flatMap((s) => repo.snapshotBlocks(s.cid)));
    expect(new Set(listBlocks(dataDir))).toEqual(needed);
    expect(blocksBefore).toBeGreaterThan(0);

    // Locked: nothing is due.
    await core.vault.lock();
    expect(await core.vault.runSchedule(Date.now() + 100 * 3_600_000)).toBeNull();
    await core.vault.unlock({ passphrase: 'a long passphrase' });
  });

  it('refuses to restore over the data directory Hearth is using', () => {
    expect(() => core.vault.startRestore({ phrase, from: { kind: 'gateway', url: service.gatewayUrl }, dataDir })).toThrow(
      expect.objectContaining({ code: 'BAD_INPUT', message: expect.stringMatching(/another folder/) }),
    );
  });

  it('a cancelled snapshot leaves no snapshot and no blocks behind', async () => {
    writeFileSync(join(dataDir, 'models', 'weights.bin'), randomBytes(96 * 1024 * 1024));
    try {
      const before = new Set(listBlocks(dataDir));
      const count = core.vault.snapshots().length;
      const job = core.vault.startSnapshot({ includeModels: true });
      await new Promise<void>((done) => {
        const off = core.events.on('jobs.update', (info) => {
          if (info.id === job.id && (info.progress ?? 0) > 0.2) {
            off();
            done();
          }
        });
      });
      core.jobs.cancel(job.id);
      const ended = await core.jobs.wait(job.id);
      expect(ended.status).toBe('cancelled');
      expect(core.vault.snapshots()).toHaveLength(count);
      expect(new Set(listBlocks(dataDir))).toEqual(before);
      expect(existsSync(join(dataDir, 'vault', 'capture'))).toBe(false);
    } finally {
      rmSync(join(dataDir, 'models', 'weights.bin'), { force: true });
    }
  });

  it('a remembered passphrase unlocks the vault when Hearth starts; lock forgets it', async () => {
    await core.vault.unlock({ passphrase: 'a long passphrase', remember: true });
    expect((await core.vault.status()).remembered).toBe(true);
    await core.dispose();
    const reopened = createTestCore({ dataDir, vault: { scryptN: 1 << 12 } });
    core = reopened.core;
    const first = cleanup;
    cleanup = async () => {
      await reopened.cleanup();
      await first();
    };
    // start() unlocks in the background.
    for (let i = 0; i < 100 && (await core.vault.status()).state !== 'unlocked'; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await core.vault.status()).state).toBe('unlocked');
    await core.vault.lock();
    expect((await core.vault.status()).remembered).toBe(false);
  });
});

function listBlocks(dataDir: string): string[] {
  const dir = join(dataDir, 'vault', 'blocks');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((sub) => readdirSync(join(dir, sub)));
}
