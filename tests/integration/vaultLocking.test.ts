import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInfo } from '#contract/dto';
import type { Core } from '../../src-main/core/createCore';
import { vaultLockPath } from '../../src-main/core/vault/vaultLock';
import { createTestCore } from '../support/testCore';
import { tempDir } from '../support/tempDir';

/** Block files (by name) in the data directory's vault/blocks. */
function blockFiles(dataDir: string): string[] {
  const dir = join(dataDir, 'vault', 'blocks');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((fan) => readdirSync(join(dir, fan))).sort();
}

/** The capture checks itself, check and gc, the vault lock and the in-use records, through a real core. */
describe('vault: capture check, check/gc, locks', () => {
  let core: Core;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  const scratch = tempDir('hearth-vault-locking-');
  const model = () => join(dataDir, 'models', 'weights.bin');

  beforeAll(async () => {
    ({ core, dataDir, cleanup } = createTestCore({ vault: { scryptN: 1 << 10, lockWaitMs: 400 } }));
    for (let i = 0; i < 5; i++) core.chat.createThread(`Chat ${i}`);
    await core.vault.create({ passphrase: 'a long passphrase' });
    writeFileSync(model(), randomBytes(2 * 1024 * 1024));
    await core.vault.snapshot({ includeModels: true, includeDocuments: false });
  });
  afterAll(async () => {
    await cleanup?.();
    scratch.cleanup();
  });

  /** Starts a snapshot with models and runs `act` once it is sealing the model; returns the job's end. */
  async function snapshotWhileSealingModel(act: () => void): Promise<JobInfo> {
    const job = core.vault.startSnapshot({ includeModels: true });
    let acted = false;
    const off = core.events.on('jobs.update', (info) => {
      if (!acted && info.id === job.id && info.detail?.includes('models/weights.bin')) {
        acted = true;
        act();
      }
    });
    try {
      const ended = await core.jobs.wait(job.id);
      expect(acted).toBe(true);
      return ended;
    } finally {
      off();
    }
  }

  it('a capture damaged under the snapshot (its hearth.db copy cut short) is never recorded: CAPTURE_DAMAGED, nothing left', async () => {
    writeFileSync(model(), randomBytes(32 * 1024 * 1024));
    const before = blockFiles(dataDir);
    const count = core.vault.snapshots().length;
    const ended = await snapshotWhileSealingModel(() => {
      // What another process deleting or rewriting this snapshot's copy did in the field.
      const [own] = readdirSync(join(dataDir, 'vault', 'capture'));
      truncateSync(join(dataDir, 'vault', 'capture', own!, 'hearth.db'), 20 * 1024);
    });
    expect(ended.status).toBe('failed');
    expect(ended.error).toMatchObject({ code: 'CAPTURE_DAMAGED', message: expect.stringContaining('hearth.db') });
    expect(core.vault.snapshots()).toHaveLength(count);
    expect(blockFiles(dataDir)).toEqual(before);
    expect(existsSync(join(dataDir, 'vault', 'capture'))).toBe(false);
  });

  it('a copy that keeps its size but lost rows under the snapshot is never recorded: the count before recording names the table', async () => {
    writeFileSync(model(), randomBytes(32 * 1024 * 1024));
    const count = core.vault.snapshots().length;
    const ended = await snapshotWhileSealingModel(() => {
      const [own] = readdirSync(join(dataDir, 'vault', 'capture'));
      const copy = join(dataDir, 'vault', 'capture', own!, 'hearth.db');
      const size = statSync(copy).size;
      const db = new BetterSqlite3(copy);
      db.prepare('DELETE FROM threads WHERE rowid IN (SELECT rowid FROM threads LIMIT 2)').run();
      db.close();
      // Same size (the freed pages stay in the file): only the row count can tell.
      expect(statSync(copy).size).toBe(size);
    });
    expect(ended.status).toBe('failed');
    expect(ended.error).toMatchObject({ code: 'CAPTURE_DAMAGED', message: expect.stringContaining('table threads holds') });
    expect(core.vault.snapshots()).toHaveLength(count);
  });

  it('a file that changes size while it is read is not recorded either', async () => {
    const count = core.vault.snapshots().length;
    const ended = await snapshotWhileSealingModel(() => truncateSync(model(), 1024 * 1024));
    expect(ended.status).toBe('failed');
    expect(ended.error).toMatchObject({ code: 'CAPTURE_DAMAGED', message: expect.stringContaining('models/weights.bin') });
    expect(core.vault.snapshots()).toHaveLength(count);
    writeFileSync(model(), randomBytes(2 * 1024 * 1024));
  });

  it('check reads every recorded block and reports leftovers honestly; gc reclaims exactly those', async () => {
    const snapshot = await core.vault.snapshot({ includeModels: true, includeDocuments: false });
    const clean = await core.vault.check();
    expect(clean).toMatchObject({ ok: true, problems: [], orphans: { count: 0, bytes: 0 }, tempFiles: { count: 0, bytes: 0 }, leftovers: [] });
    expect(clean.snapshots).toBe(core.vault.snapshots().length);
    expect(clean.blocksChecked).toBe(blockFiles(dataDir).length);

    // What a killed snapshot and a killed publish leave.
    const blocks = join(dataDir, 'vault', 'blocks');
    mkdirSync(join(blocks, 'zz'), { recursive: true });
    writeFileSync(join(blocks, 'zz', 'bafkreiorphanorphanorphanorphanorphanorphanorphanorphanzz'), randomBytes(1000));
    writeFileSync(join(blocks, 'zz', 'bafkreiorphanorphanorphan.1234.tmp'), randomBytes(300));
    mkdirSync(join(dataDir, 'vault', 'capture', '999999-deadbeef', 'index'), { recursive: true });
    writeFileSync(join(dataDir, 'vault', 'capture', '999999-deadbeef', 'hearth.db'), 'x');
    mkdirSync(join(dataDir, 'vault', 'outbox'), { recursive: true });
    writeFileSync(join(dataDir, 'vault', 'outbox', `${snapshot.cid}.car`), 'partial');
    const dirty = await core.vault.check();
    expect(dirty).toMatchObject({
      ok: true,
      orphans: { count: 1, bytes: 1000 },
      tempFiles: { count: 1, bytes: 300 },
      leftovers: [join(dataDir, 'vault', 'capture', '999999-deadbeef'), join(dataDir, 'vault', 'outbox', `${snapshot.cid}.car`)],
    });

    // A recorded block damaged, another deleted: check says which snapshot and which block.
    const [first, second] = blockFiles(dataDir).filter((name) => name !== snapshot.cid && !name.includes('orphan'));
    const path = (name: string) => join(blocks, name.slice(-2), name);
    const saved = readFileSync(path(first!));
    const flipped = Buffer.from(saved);
    flipped[0] = flipped[0]! ^ 1;
    writeFileSync(path(first!), flipped);
    const savedSecond = readFileSync(path(second!));
    rmSync(path(second!));
    const damaged = await core.vault.check();
    expect(damaged.ok).toBe(false);
    expect(damaged.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ block: first, problem: 'does not match its CID' }),
        expect.objectContaining({ block: second, problem: 'missing' }),
      ]),
    );
    writeFileSync(path(first!), saved);
    writeFileSync(path(second!), savedSecond);

    const reclaimed = await core.vault.gc();
    expect(reclaimed).toMatchObject({ orphans: { count: 1, bytes: 1000 }, tempFiles: { count: 1, bytes: 300 } });
    expect(reclaimed.leftovers).toHaveLength(2);
    expect(await core.vault.check()).toMatchObject({ ok: true, orphans: { count: 0 }, tempFiles: { count: 0 }, leftovers: [] });
    expect(blockFiles(dataDir).some((name) => name.includes('orphan'))).toBe(false);
  });

  it('the next snapshot after a killed one reclaims what it left, on its own', async () => {
    const blocks = join(dataDir, 'vault', 'blocks');
    mkdirSync(join(blocks, 'zz'), { recursive: true });
    writeFileSync(join(blocks, 'zz', 'bafkreikilledkilledkilledkilledkilledkilledkilledkilledzz'), randomBytes(500));
    writeFileSync(join(blocks, 'zz', 'bafkreikilled.5678.tmp'), randomBytes(50));
    mkdirSync(join(dataDir, 'vault', 'capture', '999998-feedbeef'), { recursive: true });
    await core.vault.snapshot({ includeModels: true, includeDocuments: false });
    expect(await core.vault.check()).toMatchObject({ ok: true, orphans: { count: 0 }, tempFiles: { count: 0 }, leftovers: [] });
  });

  it('waits for a vault lock another live process holds, then fails with LOCK_HELD naming it; takes it over once that process is killed', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'support', 'lockChild.ts'), 'hold', vaultLockPath(dataDir)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((ready) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && ready()));
      await expect(core.vault.gc()).rejects.toMatchObject({ code: 'LOCK_HELD', message: expect.stringContaining(`pid ${child.pid}`) });
      const job = core.vault.startSnapshot({});
      const waiting = await new Promise<string>((seen) => {
        const off = core.events.on('jobs.update', (info) => {
          if (info.id === job.id && info.detail?.startsWith('Waiting for')) {
            off();
            seen(info.detail);
          }
        });
      });
      expect(waiting).toContain(`pid ${child.pid}`);
      expect(await core.jobs.wait(job.id)).toMatchObject({ status: 'failed', error: { code: 'LOCK_HELD' } });
    } finally {
      child.kill('SIGKILL');
      await new Promise((done) => child.once('close', done));
    }
    expect(await core.vault.gc()).toMatchObject({ orphans: { count: 0 } });
    expect(existsSync(vaultLockPath(dataDir))).toBe(false);
  });

  it('refuses to restore into a data directory that another running core has open (DATA_DIR_IN_USE)', async () => {
    const other = createTestCore();
    const { phrase } = await core.vault.revealPhrase({ passphrase: 'a long passphrase' });
    try {
      expect(() => core.vault.startRestore({ phrase, from: { kind: 'gateway', url: 'http://127.0.0.1:9/' }, dataDir: other.dataDir })).toThrow(
        expect.objectContaining({ code: 'DATA_DIR_IN_USE', message: expect.stringContaining(`pid ${process.pid}`) }),
      );
    } finally {
      await other.cleanup();
    }
  });
});
