import BetterSqlite3 from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VaultSnapshot, VaultTarget } from '#contract/dto';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { createCore, type Core } from '../../src-main/core/createCore';
import { LocalBlockStore } from '../../src-main/core/vault/localBlockStore';
import { restoreSnapshot } from '../../src-main/core/vault/snapshotRestorer';
import { FolderTarget } from '../../src-main/core/vault/targets/folderTarget';
import type { VaultCheckReport, VaultGcReport } from '../../src-main/core/vault/vaultMaintenance';
import { walletFromPhrase } from '../../src-main/core/vault/walletIdentity';
import { assertBuilt, runHearth, startServe, type HearthRun } from '../support/server';
import { tempDir } from '../support/tempDir';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../support/testCore';

const PASSPHRASE = 'correct horse battery staple';
const ROOT = join(__dirname, '..', '..');
const KILLS = 24;

/** What is on disk, worked out here independently of the vault's own check. */
function diskState(dataDir: string) {
  const vault = join(dataDir, 'vault');
  const db = new BetterSqlite3(join(vault, 'vault.db'), { readonly: true, fileMustExist: true });
  let referenced: Set<string>;
  let remote: Set<string>;
  try {
    referenced = new Set(db.prepare('SELECT block_cid FROM snapshot_blocks UNION SELECT block_cid FROM chunks').pluck().all() as string[]);
    remote = new Set(db.prepare('SELECT block_cid FROM remote_blocks').pluck().all() as string[]);
  } finally {
    db.close();
  }
  const files: { name: string; size: number }[] = [];
  const blocks = join(vault, 'blocks');
  for (const fan of existsSync(blocks) ? readdirSync(blocks) : []) {
    for (const name of readdirSync(join(blocks, fan))) files.push({ name, size: statSync(join(blocks, fan, name)).size });
  }
  const sum = (list: { size: number }[]) => ({ count: list.length, bytes: list.reduce((n, f) => n + f.size, 0) });
  const leftovers = ['capture', 'outbox'].flatMap((folder) => (existsSync(join(vault, folder)) ? readdirSync(join(vault, folder)).map((n) => join(vault, folder, n)) : []));
  return {
    orphans: sum(files.filter((f) => !f.name.endsWith('.tmp') && (!referenced.has(f.name) || remote.has(f.name)))),
    tempFiles: sum(files.filter((f) => f.name.endsWith('.tmp'))),
    leftovers: leftovers.sort(),
  };
}

/**
 * kill -9 of the built CLI's `vault snapshot` at many points, and what each leaves: the vault's
 * check must say exactly what is on disk, no recorded snapshot may be damaged, gc (or the next
 * snapshot) must reclaim everything, and snapshots and restores must go on working. Then two
 * snapshots started 0.2 s apart, and a restore into the data directory of a running server.
 */
describe('vault: kill -9 at many points, concurrent snapshots, restore into a running server', { timeout: 300_000 }, () => {
  const data = tempDir('hearth-vault-kill-');
  const scratch = tempDir('hearth-vault-kill-out-');
  const phraseFile = join(scratch.path, 'phrase.txt');
  let core: Core;
  let phrase: string;

  const env = (): NodeJS.ProcessEnv => {
    const vars: NodeJS.ProcessEnv = { ...process.env, HEARTH_LOG: 'error', HEARTH_VAULT_PASSPHRASE: PASSPHRASE };
    delete vars.HEARTH_DATA_DIR;
    return vars;
  };
  const vault = (args: string[]): Promise<HearthRun> => runHearth(['vault', ...args, '--data-dir', data.path], env());
  const snapshotArgs = ['vault', 'snapshot', '--models', '--json', '--data-dir', data.path];
  const capture = join(data.path, 'vault', 'capture');
  // The folder can go between a look and a listing (the snapshot removes it as it ends): absent then.
  const captureOf = (pid: number) => {
    try {
      return readdirSync(capture).some((name) => name.startsWith(`${pid}-`));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  };

  /** Runs `args` to the end, timing the window that matters: from its capture folder appearing to its going. */
  const captureWindow = async (args: string[]): Promise<{ startup: number; window: number }> => {
    const started = Date.now();
    const first = spawn(process.execPath, [join(ROOT, 'bin', 'hearth.mjs'), ...args], { cwd: ROOT, env: env(), stdio: 'ignore' });
    let appeared = 0;
    let gone = 0;
    while (first.exitCode === null) {
      if (!appeared && captureOf(first.pid!)) appeared = Date.now();
      if (appeared && !gone && !captureOf(first.pid!)) gone = Date.now();
      await sleep(2);
    }
    expect(first.exitCode).toBe(0);
    expect(appeared).toBeGreaterThan(0);
    return { startup: appeared - started, window: Math.max((gone || Date.now()) - appeared, 50) };
  };

  /** New data for the next snapshot: a chat, and one model file rewritten (64 new chunks). */
  let round = 0;
  const change = () => {
    round++;
    core.chat.createThread(`Round ${round}`);
    writeFileSync(join(data.path, 'models', `weights-${round % 3}.bin`), randomBytes(4 * 1024 * 1024));
  };

  /** Restores a recorded snapshot from the local blocks: every block, chunk, file hash and row count checked. */
  const restoreLocal = async (snapshot: VaultSnapshot, name: string) => {
    const result = await restoreSnapshot({
      wallet: walletFromPhrase(phrase),
      root: snapshot.cid,
      fetcher: new LocalBlockStore(join(data.path, 'vault', 'blocks')),
      dataDir: join(scratch.path, name),
    });
    expect(result.files).toBe(snapshot.files);
  };

  beforeAll(async () => {
    assertBuilt();
    core = createCore(
      { dataDir: data.path, host: 'server', version: 'test', gpu: 'off', catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH, library: { watch: false }, vault: { scryptN: 1 << 10 } },
      { logger: createConsoleLogger('error') },
    );
    // A cheap keystore (scrypt 2^10): each CLI run unlocks it, and there are many runs.
    phrase = (await core.vault.create({ passphrase: PASSPHRASE })).phrase;
    writeFileSync(phraseFile, `${phrase}\n`);
    // Model blocks kept here: the local restores below read them from vault/blocks.
    core.vault.setSchedule({ keep: 3, keepModelBlocks: true });
    const insert = core.db.prepare("INSERT INTO messages (id, thread_id, seq, role, content, status, created_at) VALUES (?, ?, ?, 'user', ?, 'complete', ?)");
    for (let t = 0; t < 4; t++) {
      const thread = core.chat.createThread(`Chat ${t}`);
      for (let m = 0; m < 100; m++) insert.run(`msg_${t}_${m}`, thread.id, m + 1, randomBytes(800).toString('base64'), Date.now());
    }
  });
  afterAll(async () => {
    await core?.dispose();
    data.cleanup();
    scratch.cleanup();
  });

  it(`kill -9 at ${KILLS} points of a snapshot: check is honest, nothing recorded is damaged, gc and the next snapshot reclaim all`, async () => {
    change();
    const { startup, window } = await captureWindow(snapshotArgs);

    const rows = new BetterSqlite3(join(data.path, 'vault', 'vault.db'), { readonly: true });
    const lastRow = () => rows.prepare('SELECT MAX(rowid) FROM snapshots').pluck().get();
    const seen = { orphans: 0, tempFiles: 0, leftovers: 0, recorded: 0, noneLeft: 0 };
    for (let kill = 0; kill < KILLS; kill++) {
      change();
      const before = core.vault.snapshots()[0]?.cid;
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'hearth.mjs'), ...snapshotArgs], { cwd: ROOT, env: env(), stdio: 'ignore' });
      const closed = new Promise((done) => child.once('close', done));
      if (kill < 3) {
        // By elapsed time from the start: while it starts, unlocks, takes the lock.
        await sleep(Math.round((startup * (kill + 1)) / 4));
      } else if (kill < KILLS - 3) {
        // By progress: at a point spread over the capture-to-cleanup window.
        while (child.exitCode === null && !captureOf(child.pid!)) await sleep(2);
        await sleep(Math.round((window * 1.5 * (kill - 3)) / (KILLS - 6)));
      } else {
        // By progress: just after its snapshot is recorded (retention, cleanup).
        const seenRow = lastRow();
        while (child.exitCode === null && lastRow() === seenRow) await sleep(2);
        await sleep((kill - (KILLS - 3)) * 5);
      }
      child.kill('SIGKILL');
      await closed;

      // The check (it takes over the dead process's lock) says exactly what is on disk.
      const expected = diskState(data.path);
      const report = await core.vault.check();
      expect(report.problems, `kill ${kill}`).toEqual([]);
      expect(report.ok).toBe(true);
      expect({ orphans: report.orphans, tempFiles: report.tempFiles, leftovers: report.leftovers }, `kill ${kill}`).toEqual(expected);
      expect(existsSync(join(data.path, 'locks', 'vault.lock'))).toBe(false);
      if (expected.orphans.count) seen.orphans++;
      if (expected.tempFiles.count) seen.tempFiles++;
      if (expected.leftovers.length) seen.leftovers++;
      if (!expected.orphans.count && !expected.tempFiles.count && !expected.leftovers.length) seen.noneLeft++;

      // Whatever was recorded is whole: the latest snapshot restores, every check passing.
      const latest = core.vault.snapshots()[0]!;
      if (latest.cid !== before) {
        seen.recorded++;
        await restoreLocal(latest, `kill-${kill}`);
      }
      // Half the time gc reclaims it now; otherwise the next snapshot does so itself.
      if (kill % 2 === 0) {
        const reclaimed = await core.vault.gc();
        expect(reclaimed).toEqual({ orphans: expected.orphans, tempFiles: expected.tempFiles, leftovers: expected.leftovers });
        expect(diskState(data.path)).toEqual({ orphans: { count: 0, bytes: 0 }, tempFiles: { count: 0, bytes: 0 }, leftovers: [] });
      }
    }
    // The kill points landed all over: some leaked blocks, some left a capture folder, some
    // were recorded before the kill.
    expect(seen.orphans, JSON.stringify(seen)).toBeGreaterThanOrEqual(3);
    expect(seen.leftovers, JSON.stringify(seen)).toBeGreaterThanOrEqual(3);
    expect(seen.recorded, JSON.stringify(seen)).toBeGreaterThanOrEqual(3);
    rows.close();
    console.info(`kill points: ${JSON.stringify(seen)}`);

    // The next snapshot, through the CLI to the end, after a killed one: it reclaims on its own.
    change();
    const next = await runHearth(snapshotArgs, env());
    expect(next.code, next.stderr).toBe(0);
    const made = JSON.parse(next.stdout) as VaultSnapshot;
    const check = await vault(['check', '--json']);
    expect(check.code, check.stderr).toBe(0);
    const checked = JSON.parse(check.stdout) as VaultCheckReport;
    expect(checked).toMatchObject({ ok: true, snapshots: core.vault.snapshots().length, problems: [], tempFiles: { count: 0 }, leftovers: [] });
    const gc = await vault(['gc', '--json']);
    expect(gc.code, gc.stderr).toBe(0);
    expect(JSON.parse(gc.stdout) as VaultGcReport).toMatchObject({ orphans: { count: checked.orphans.count }, tempFiles: { count: 0 }, leftovers: [] });
    expect(diskState(data.path)).toEqual({ orphans: { count: 0, bytes: 0 }, tempFiles: { count: 0, bytes: 0 }, leftovers: [] });
    const text = await vault(['check']);
    expect(text.stdout).toMatch(new RegExp(`^${core.vault.snapshots().length} snapshots, \\d+ blocks read and checked against their CIDs: all intact\\.$`, 'm'));
    expect(text.stdout).toContain('Not referenced by any snapshot: 0 blocks (0 B); unfinished writes: 0 temp files (0 B); leftovers: 0.');
    expect(readdirSync(join(data.path, 'locks'))).toEqual(['in-use']);

    // And a restore of it from a folder, through the CLI, from the phrase alone.
    const usb = join(scratch.path, 'usb');
    mkdirSync(usb);
    const added = await vault(['target', 'add', 'folder', usb, '--name', 'USB', '--json']);
    expect(added.code, added.stderr).toBe(0);
    expect((JSON.parse(added.stdout) as VaultTarget).kind).toBe('folder');
    const published = await vault(['publish', made.cid, '--to', 'USB']);
    expect(published.code, published.stderr).toBe(0);
    const restored = join(scratch.path, 'restored');
    const restore = await runHearth(['vault', 'restore', '--data-dir', restored, '--folder', usb, '--phrase-file', phraseFile, '--json'], env());
    expect(restore.code, restore.stderr).toBe(0);
    expect(JSON.parse(restore.stdout)).toMatchObject({ root: made.cid, files: made.files });
    const titles = new BetterSqlite3(join(restored, 'hearth.db'), { readonly: true });
    expect(titles.prepare('SELECT COUNT(*) FROM threads').pluck().get()).toBe(4 + round);
    titles.close();
  });

  it('two snapshots started 0.2 s apart: the second waits for the first, and both are whole', async () => {
    change();
    const first = runHearth(snapshotArgs, env());
    await sleep(200);
    const second = runHearth(snapshotArgs, env());
    const [a, b] = await Promise.all([first, second]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const [one, two] = [JSON.parse(a.stdout) as VaultSnapshot, JSON.parse(b.stdout) as VaultSnapshot];
    expect(one.cid).not.toBe(two.cid);
    // Both read all of the same data (the first one read a 20 KB copy of hearth.db).
    expect(two.bytes).toBe(one.bytes);
    expect(two.files).toBe(one.files);
    expect(await core.vault.check()).toMatchObject({ ok: true, orphans: { count: 0 }, tempFiles: { count: 0 }, leftovers: [] });
    for (const snapshot of [one, two]) await restoreLocal(snapshot, `pair-${snapshot.cid.slice(-8)}`);
  });

  it('restore refuses the data directory of a running hearth serve (DATA_DIR_IN_USE) and leaves it alone', async () => {
    const served = join(scratch.path, 'served');
    const server = await startServe(['--data-dir', served]);
    try {
      const refused = await runHearth(['vault', 'restore', '--data-dir', served, '--folder', join(scratch.path, 'usb'), '--phrase-file', phraseFile], env());
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^error DATA_DIR_IN_USE: Restoring into .* is refused: .* is open in a running Hearth \(pid \d+ \(hearth serve/m);
      expect(refused.stderr).toContain(`pid ${server.process.pid}`);
      expect(server.process.exitCode).toBeNull();
      expect(readdirSync(scratch.path).filter((name) => name.startsWith('served.before-restore'))).toEqual([]);
      expect(existsSync(join(served, 'hearth.db'))).toBe(true);
    } finally {
      await server.stop();
    }
    // Once the server has stopped, the same restore goes ahead (what was there is kept aside).
    const restored = await runHearth(['vault', 'restore', '--data-dir', served, '--folder', join(scratch.path, 'usb'), '--phrase-file', phraseFile, '--json'], env());
    expect(restored.code, restored.stderr).toBe(0);
    expect((JSON.parse(restored.stdout) as { keptAside: string | null }).keptAside).toMatch(/served\.before-restore-/);
  });

  it('kill -9 of `snapshot --publish` to a folder, model blocks kept there only: nothing recorded is damaged, gc and the next publish reclaim all', async () => {
    const usb = join(scratch.path, 'kill-usb');
    mkdirSync(usb);
    const target = await core.vault.addTarget({ kind: 'folder', path: usb, name: 'Kill USB' });
    core.vault.setSchedule({ keepModelBlocks: false });
    const cars = join(usb, 'hearth-vault', 'cars');
    const publishArgs = [...snapshotArgs, '--publish', target.id];
    const restoreFromFolder = async (snapshot: VaultSnapshot, name: string) => {
      const result = await restoreSnapshot({ wallet: walletFromPhrase(phrase), root: snapshot.cid, fetcher: new FolderTarget(usb).fetcher(), dataDir: join(scratch.path, name) });
      expect(result.files).toBe(snapshot.files);
    };

    change();
    const { window } = await captureWindow(publishArgs);

    const rows = new BetterSqlite3(join(data.path, 'vault', 'vault.db'), { readonly: true });
    const lastRow = () => rows.prepare('SELECT MAX(rowid) FROM snapshots').pluck().get();
    const seen = { recorded: 0, unrecorded: 0, tempCars: 0 };
    const points = 8;
    for (let kill = 0; kill < points; kill++) {
      change();
      const before = core.vault.snapshots()[0]?.cid;
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'hearth.mjs'), ...publishArgs], { cwd: ROOT, env: env(), stdio: 'ignore' });
      const closed = new Promise((done) => child.once('close', done));
      if (kill < points - 3) {
        // While it captures, seals and writes the CAR into the folder (the first 70 % of the window: the record comes near its end).
        while (child.exitCode === null && !captureOf(child.pid!)) await sleep(2);
        await sleep(Math.round((window * 0.7 * (kill + 0.5)) / (points - 3)));
      } else {
        // Just after its snapshot is recorded: the pointer, the publication, retention.
        const seenRow = lastRow();
        while (child.exitCode === null && lastRow() === seenRow) await sleep(2);
        await sleep((kill - (points - 3)) * 5);
      }
      child.kill('SIGKILL');
      await closed;
      if (readdirSync(cars).some((name) => name.endsWith('.incoming') || name.endsWith('.part'))) seen.tempCars++;

      const expected = diskState(data.path);
      const report = await core.vault.check();
      expect(report.problems, `publish kill ${kill}`).toEqual([]);
      expect({ orphans: report.orphans, tempFiles: report.tempFiles, leftovers: report.leftovers }, `publish kill ${kill}`).toEqual(expected);
      // Whatever was recorded is whole in the folder: its CAR was durable before the record.
      const latest = core.vault.snapshots()[0]!;
      if (latest.cid !== before) {
        seen.recorded++;
        await restoreFromFolder(latest, `publish-kill-${kill}`);
      } else seen.unrecorded++;
      expect(await core.vault.gc()).toEqual({ orphans: expected.orphans, tempFiles: expected.tempFiles, leftovers: expected.leftovers });
      expect(diskState(data.path)).toEqual({ orphans: { count: 0, bytes: 0 }, tempFiles: { count: 0, bytes: 0 }, leftovers: [] });
    }
    rows.close();
    expect(seen.recorded, JSON.stringify(seen)).toBeGreaterThanOrEqual(2);
    expect(seen.unrecorded, JSON.stringify(seen)).toBeGreaterThanOrEqual(2);
    console.info(`publish kill points: ${JSON.stringify(seen)}`);

    // The next publish to the end: it deletes the temp CARs the killed runs left, and the phrase alone restores it.
    change();
    const next = await runHearth(publishArgs, env());
    expect(next.code, next.stderr).toBe(0);
    const made = JSON.parse(next.stdout) as VaultSnapshot;
    expect(readdirSync(cars).filter((name) => !name.endsWith('.car'))).toEqual([]);
    expect(await core.vault.check()).toMatchObject({ ok: true, problems: [], tempFiles: { count: 0 }, leftovers: [] });
    const restored = join(scratch.path, 'publish-restored');
    const restore = await runHearth(['vault', 'restore', '--data-dir', restored, '--folder', usb, '--phrase-file', phraseFile, '--json'], env());
    expect(restore.code, restore.stderr).toBe(0);
    expect(JSON.parse(restore.stdout)).toMatchObject({ root: made.cid, files: made.files });
  });
});
