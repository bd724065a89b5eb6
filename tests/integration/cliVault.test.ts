import BetterSqlite3 from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VaultSnapshot, VaultStatus, VaultTarget } from '#contract/dto';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { createCore } from '../../src-main/core/createCore';
import { assertBuilt, runHearth, type HearthRun } from '../support/server';
import { tempDir } from '../support/tempDir';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../support/testCore';

const PASSPHRASE = 'correct horse battery staple';

/** `hearth vault ...`: the built CLI backs a library up to a folder and restores it elsewhere from the phrase. */
// Each step spawns the CLI, and each unlock runs scrypt at its full cost: allow minutes, not the default minute.
describe('hearth vault from the command line', { timeout: 180_000 }, () => {
  const data = tempDir('hearth-cli-vault-');
  const backup = tempDir('hearth-cli-vault-usb-');
  const backup2 = tempDir('hearth-cli-vault-nas-');
  const elsewhere = tempDir('hearth-cli-vault-new-');
  const phraseFile = join(elsewhere.path, 'phrase.txt');
  let cid = '';
  let address = '';

  /** Runs the CLI; the passphrase travels in the environment (null leaves it out). */
  const run = (args: string[], passphrase: string | null = PASSPHRASE): Promise<HearthRun> => {
    const env: NodeJS.ProcessEnv = { ...process.env, HEARTH_LOG: 'warn' };
    delete env.HEARTH_DATA_DIR;
    delete env.HEARTH_VAULT_PASSPHRASE;
    if (passphrase !== null) env.HEARTH_VAULT_PASSPHRASE = passphrase;
    return runHearth(args, env);
  };
  /** A vault command on the seeded library. */
  const vault = (args: string[], passphrase: string | null = PASSPHRASE) => run(['vault', ...args, '--data-dir', data.path], passphrase);
  const threadTitles = (dataDir: string): string[] => {
    const db = new BetterSqlite3(join(dataDir, 'hearth.db'), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT title FROM threads').all() as { title: string }[]).map((r) => r.title);
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    assertBuilt();
    const seed = createCore(
      { dataDir: data.path, host: 'server', version: 'test', gpu: 'off', catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH, library: { watch: false } },
      { logger: createConsoleLogger('error') },
    );
    seed.chat.createThread('Backed up');
    await seed.dispose();
  });
  afterAll(() => {
    for (const dir of [data, backup, backup2, elsewhere]) dir.cleanup();
  });

  it('creates the wallet and prints the phrase to write down', async () => {
    const init = await vault(['init', '--json']);
    expect(init.code, init.stderr).toBe(0);
    const created = JSON.parse(init.stdout) as { address: string; phrase: string };
    expect(created.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(created.phrase.split(' ')).toHaveLength(12);
    expect(init.stderr).toMatch(/Write these 12 words down/);
    address = created.address;
    writeFileSync(phraseFile, `${created.phrase}\n`);

    const again = await vault(['init']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error BAD_INPUT: A wallet already exists/m);

    const noPassphrase = await vault(['init'], null);
    expect(noPassphrase.code).toBe(2);

    const status = await vault(['status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ state: 'locked', address, lastSnapshot: null } satisfies Partial<VaultStatus>);
  });

  it('snapshots and publishes to a folder target, and lists it as published', async () => {
    const add = await vault(['target', 'add', 'folder', backup.path, '--name', 'USB', '--json']);
    expect(add.code, add.stderr).toBe(0);
    const target = JSON.parse(add.stdout) as VaultTarget;
    expect(target).toMatchObject({ kind: 'folder', name: 'USB', location: backup.path, keepsPointer: true });

    const snapshot = await vault(['snapshot', '--publish', 'USB']);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    cid = snapshot.stdout.trim();
    expect(cid).toMatch(/^baf[a-z2-7]+$/);
    expect(snapshot.stderr).toMatch(/\[#{20}\] 100%/);
    expect(snapshot.stderr).toContain('published to USB');

    const ls = await vault(['ls', '--json']);
    expect(ls.code, ls.stderr).toBe(0);
    const listed = JSON.parse(ls.stdout) as { snapshots: VaultSnapshot[]; targets: VaultTarget[] };
    expect(listed.snapshots).toHaveLength(1);
    expect(listed.snapshots[0]).toMatchObject({ cid, publications: [expect.objectContaining({ targetId: target.id, targetName: 'USB' })] });
    expect(listed.targets.map((t) => t.id)).toEqual([target.id]);
    const uploads = await vault(['target', 'uploads', 'USB', '--json']);
    expect(uploads.code, uploads.stderr).toBe(0);
    expect((JSON.parse(uploads.stdout) as { root: string }[]).map((u) => u.root)).toEqual([cid]);

    // publish: the latest snapshot by default, to a second target named by id.
    const second = JSON.parse((await vault(['target', 'add', 'folder', backup2.path, '--json'])).stdout) as VaultTarget;
    const publish = await vault(['publish', '--to', second.id]);
    expect(publish.code, publish.stderr).toBe(0);
    expect(publish.stdout).toContain(`Published ${cid} to ${second.name}`);
    const text = await vault(['ls']);
    expect(text.stdout).toMatch(new RegExp(`${cid}\\s+.*USB, ${second.name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));

    const unknown = await vault(['publish', '--to', 'Nowhere']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error TARGET_NOT_FOUND: /m);
  });

  it('restores from the folder by CID, then from its latest-snapshot record alone', async () => {
    const first = join(elsewhere.path, 'restored-by-cid');
    const byCid = await run(['vault', 'restore', '--data-dir', first, '--folder', backup.path, '--phrase-file', phraseFile, '--cid', cid]);
    expect(byCid.code, byCid.stderr).toBe(0);
    expect(byCid.stdout).toContain(`Restored snapshot ${cid}`);
    expect(byCid.stdout).toContain(`Wallet ${address} is set up there`);
    expect(threadTitles(first)).toEqual(['Backed up']);
    // The passphrase in the environment stored the wallet there: that library can snapshot on.
    const status = await run(['vault', 'status', '--json', '--data-dir', first]);
    expect(JSON.parse(status.stdout)).toMatchObject({ state: 'locked', address });

    const second = join(elsewhere.path, 'restored-from-pointer');
    const byPointer = await run(['vault', 'restore', '--data-dir', second, '--folder', backup.path, '--phrase-file', phraseFile, '--json'], null);
    expect(byPointer.code, byPointer.stderr).toBe(0);
    expect(JSON.parse(byPointer.stdout)).toMatchObject({ root: cid, dataDir: second, keptAside: null, imported: false, address });
    expect(threadTitles(second)).toEqual(['Backed up']);
    expect(existsSync(join(second, 'vault', 'keystore.json'))).toBe(false);
  });

  it('refuses another wallet\'s phrase and writes nothing', async () => {
    const otherPhrase = join(elsewhere.path, 'other-phrase.txt');
    writeFileSync(otherPhrase, Wallet.createRandom().mnemonic!.phrase);
    const target = join(elsewhere.path, 'restored-wrong');
    const wrong = await run(['vault', 'restore', '--data-dir', target, '--folder', backup.path, '--phrase-file', otherPhrase, '--cid', cid]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('WRONG_PASSPHRASE');
    expect(existsSync(target)).toBe(false);

    const noSource = await run(['vault', 'restore', '--data-dir', target, '--phrase-file', phraseFile]);
    expect(noSource.code).toBe(2);
  });

  it('refuses what vault.restore refuses (a bad CID, a non-http gateway) as bad usage, and writes nothing', async () => {
    const target = join(elsewhere.path, 'restored-bad-input');
    const badCid = await run(['vault', 'restore', '--data-dir', target, '--folder', backup.path, '--phrase-file', phraseFile, '--cid', 'Qm-not-a-cid']);
    expect(badCid.code, badCid.stderr).toBe(2);
    expect(badCid.stderr).toMatch(/--cid CID: a CIDv1 in base32/);
    const badGateway = await run(['vault', 'restore', '--data-dir', target, '--from', 'file:///etc', '--phrase-file', phraseFile, '--cid', cid]);
    expect(badGateway.code, badGateway.stderr).toBe(2);
    expect(badGateway.stderr).toMatch(/--from GATEWAY_URL/);
    expect(existsSync(target)).toBe(false);
    const longPhrase = join(elsewhere.path, 'long-phrase.txt');
    writeFileSync(longPhrase, 'word '.repeat(300));
    const tooLong = await run(['vault', 'restore', '--data-dir', target, '--folder', backup.path, '--phrase-file', longPhrase, '--cid', cid]);
    expect(tooLong.code, tooLong.stderr).toBe(2);
    expect(tooLong.stderr).toMatch(/--phrase-file F:/);
    expect(existsSync(target)).toBe(false);
    // The same for publish's CID and the schedule's ranges (those of the app's settings).
    const publish = await vault(['publish', 'Qm-not-a-cid', '--to', 'anything']);
    expect(publish.code, publish.stderr).toBe(2);
    expect(publish.stderr).toMatch(/CID: a CIDv1 in base32/);
    const schedule = await vault(['schedule', '--every', '1000']);
    expect(schedule.code, schedule.stderr).toBe(2);
    expect(schedule.stderr).toMatch(/--every HOURS:/);
  });

  it('refuses a wrong passphrase for a snapshot', async () => {
    const snapshot = await vault(['snapshot'], 'not the passphrase');
    expect(snapshot.code).toBe(1);
    expect(snapshot.stderr).toMatch(/^error WRONG_PASSPHRASE: /m);
    const locked = await vault(['snapshot'], null);
    expect(locked.code).toBe(1);
    expect(locked.stderr).toMatch(/^error VAULT_LOCKED: .*HEARTH_VAULT_PASSPHRASE/m);
  });

  it('snapshot skips unchanged files and --full reads them all; schedule --keep-model-blocks', async () => {
    const modelBytes = 2 * 1024 * 1024;
    mkdirSync(join(data.path, 'models'), { recursive: true });
    writeFileSync(join(data.path, 'models', 'tiny.gguf'), randomBytes(modelBytes));
    const take = async (...extra: string[]) => {
      const result = await vault(['snapshot', '--models', '--json', ...extra]);
      expect(result.code, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as VaultSnapshot;
    };
    expect((await take()).readBytes).toBeGreaterThanOrEqual(modelBytes);
    expect((await take()).readBytes).toBeLessThan(modelBytes);
    expect((await take('--full')).readBytes).toBeGreaterThanOrEqual(modelBytes);
    const text = await vault(['snapshot', '--models']);
    expect(text.stderr).toMatch(/Snapshot of \d+ files \([^,]+, [\d.]+ [kKMG]?i?B read\)/);

    const schedule = await vault(['schedule', '--keep-model-blocks', 'no', '--json']);
    expect(schedule.code, schedule.stderr).toBe(0);
    expect(JSON.parse(schedule.stdout)).toMatchObject({ keepModelBlocks: false });
    expect((await vault(['schedule'])).stdout).toContain('model blocks kept only on the target');
  });
});
