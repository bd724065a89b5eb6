import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { createCore } from '../../src-main/core/createCore';
import { assertBuilt, runHearth, type HearthRun } from '../support/server';
import { tempDir } from '../support/tempDir';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../support/testCore';

const PASSPHRASE = 'correct horse battery staple';

/** A failed command's stderr: its last line is `error CODE: message`, and no line is a stack frame. */
function expectOneErrorLine(run: HearthRun, code: string): void {
  expect(run.code, run.stderr).toBe(1);
  const lines = run.stderr.split(/\r|\n/).filter((l) => l.trim() !== '');
  expect(lines.at(-1)).toMatch(new RegExp(`^error ${code}: `));
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.stderr).not.toContain('HearthError');
}

/** `hearth vault ...` failing: one coded line on stderr, the stack in the data directory's error log. */
describe('hearth vault errors from the command line', { timeout: 180_000 }, () => {
  const data = tempDir('hearth-cli-errors-');
  const usb = tempDir('hearth-cli-errors-usb-');
  const elsewhere = tempDir('hearth-cli-errors-new-');
  const phraseFile = join(elsewhere.path, 'phrase.txt');
  const cids: string[] = [];

  const run = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<HearthRun> => {
    const base: NodeJS.ProcessEnv = { ...process.env, HEARTH_LOG: 'warn', HEARTH_VAULT_PASSPHRASE: PASSPHRASE };
    delete base.HEARTH_DATA_DIR;
    return runHearth(args, { ...base, ...env });
  };
  const vault = (args: string[]) => run(['vault', ...args, '--data-dir', data.path]);

  beforeAll(async () => {
    assertBuilt();
    const seed = createCore(
      { dataDir: data.path, host: 'server', version: 'test', gpu: 'off', catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH, library: { watch: false } },
      { logger: createConsoleLogger('error') },
    );
    seed.chat.createThread('Backed up');
    await seed.dispose();
    const init = await vault(['init', '--json']);
    expect(init.code, init.stderr).toBe(0);
    writeFileSync(phraseFile, (JSON.parse(init.stdout) as { phrase: string }).phrase);
    expect((await vault(['target', 'add', 'folder', usb.path, '--name', 'USB'])).code).toBe(0);
  });
  afterAll(() => {
    for (const dir of [data, usb, elsewhere]) dir.cleanup();
  });

  it('a job that fails (the target folder gone): the error line only; its stack in logs/hearth-cli.log', async () => {
    const first = await vault(['snapshot', '--publish', 'USB']);
    expect(first.code, first.stderr).toBe(0);
    cids.push(first.stdout.trim());

    const moved = `${usb.path}-unplugged`;
    renameSync(usb.path, moved);
    try {
      const snapshot = await vault(['snapshot', '--publish', 'USB']);
      expectOneErrorLine(snapshot, 'TARGET_NOT_FOUND');
      expect(snapshot.stderr).toContain('was taken but not published');
      const publish = await vault(['publish', '--to', 'USB']);
      expectOneErrorLine(publish, 'TARGET_NOT_FOUND');
    } finally {
      renameSync(moved, usb.path);
    }
    const log = readFileSync(join(data.path, 'logs', 'hearth-cli.log'), 'utf8');
    expect(log).toMatch(/vault\.publish\) failed\nHearthError: The backup folder/);
    expect(log).toMatch(/^\s+at /m);
  });

  it('other failing vault commands print the error line only', async () => {
    expectOneErrorLine(await vault(['init']), 'BAD_INPUT');
    expectOneErrorLine(await vault(['publish', '--to', 'Nowhere']), 'TARGET_NOT_FOUND');
    expectOneErrorLine(await run(['vault', 'snapshot', '--data-dir', data.path], { HEARTH_VAULT_PASSPHRASE: 'not the passphrase' }), 'WRONG_PASSPHRASE');
    const other = join(elsewhere.path, 'other-phrase.txt');
    writeFileSync(other, Wallet.createRandom().mnemonic!.phrase);
    const wrong = await run(['vault', 'restore', '--data-dir', join(elsewhere.path, 'wrong'), '--folder', usb.path, '--phrase-file', other, '--cid', cids[0]!]);
    expectOneErrorLine(wrong, 'WRONG_PASSPHRASE');
    const nothing = join(elsewhere.path, 'empty-usb');
    mkdirSync(nothing);
    expectOneErrorLine(await run(['vault', 'restore', '--data-dir', join(elsewhere.path, 'none'), '--folder', nothing, '--phrase-file', phraseFile]), 'NOT_FOUND');
  });

  it('restore refuses an older latest-snapshot record copied back (STALE_POINTER), and restores it on purpose with --cid', async () => {
    const pointers = join(usb.path, 'hearth-vault', 'pointers');
    const [name] = readdirSync(pointers).filter((n) => !n.includes('.'));
    const saved = join(elsewhere.path, 'old-pointer');
    copyFileSync(join(pointers, name!), saved);
    const second = await vault(['snapshot', '--publish', 'USB']);
    expect(second.code, second.stderr).toBe(0);
    cids.push(second.stdout.trim());
    copyFileSync(saved, join(pointers, name!));

    // The library in use saw the newer record there.
    const seen = await run(['vault', 'restore', '--data-dir', join(elsewhere.path, 'seen'), '--folder', usb.path, '--phrase-file', phraseFile], {
      HEARTH_DATA_DIR: data.path,
    });
    expectOneErrorLine(seen, 'STALE_POINTER');
    expect(seen.stderr).toContain('this machine has already seen sequence 2');
    // A machine with no library: the folder holds a newer snapshot than the record names.
    const fresh = await run(['vault', 'restore', '--data-dir', join(elsewhere.path, 'fresh'), '--folder', usb.path, '--phrase-file', phraseFile], {
      HEARTH_DATA_DIR: join(elsewhere.path, 'no-library'),
    });
    expectOneErrorLine(fresh, 'STALE_POINTER');
    expect(fresh.stderr).toContain(`holds a newer snapshot of this wallet, ${cids[1]}`);
    expect(fresh.stderr).toContain(`--cid ${cids[0]}`);

    const chosen = await run(['vault', 'restore', '--data-dir', join(elsewhere.path, 'chosen'), '--folder', usb.path, '--phrase-file', phraseFile, '--cid', cids[0]!, '--json']);
    expect(chosen.code, chosen.stderr).toBe(0);
    expect(JSON.parse(chosen.stdout)).toMatchObject({ root: cids[0] });
  });
});
