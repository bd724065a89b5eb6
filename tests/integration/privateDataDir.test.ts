import { chmodSync, lstatSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../src-main/core/common/logger';
import { createCore, type Core } from '../../src-main/core/createCore';
import { PrivateDataDir } from '../../src-main/core/storage/privateDataDir';
import { indexPath } from '../support/libraryCore';
import { tempDir } from '../support/tempDir';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../support/testCore';
import { testModelPath } from '../support/testModels';

const mode = (path: string) => lstatSync(path).mode & 0o777;

/** Every folder and file under dir (links not followed), with its permission bits. */
function tree(dir: string): { path: string; isDir: boolean; mode: number }[] {
  const found: { path: string; isDir: boolean; mode: number }[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    found.push({ path, isDir: entry.isDirectory(), mode: mode(path) });
    if (entry.isDirectory()) found.push(...tree(path));
  }
  return found;
}

/** What is open to the group or to other users: none should be. */
const openToOthers = (dir: string) =>
  tree(dir)
    .filter((entry) => (entry.isDir ? entry.mode !== 0o700 : (entry.mode & 0o077) !== 0))
    .map((entry) => `${entry.path} ${entry.mode.toString(8)}`);

describe('the data directory is private by default', () => {
  const root = tempDir('hearth-private-');
  const lines: string[] = [];
  const logger: Logger = { debug: () => undefined, info: (m) => void lines.push(m), warn: (m) => void lines.push(m), error: (m) => void lines.push(m) };
  const open = (dataDir: string, extraModelDirs: string[] = []): Core =>
    createCore(
      { dataDir, extraModelDirs, host: 'server', version: 'test', gpu: 'off', threads: 1, catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH,
        library: { watch: false }, vault: { scryptN: 1 << 12 } },
      { logger },
    );
  afterAll(() => root.cleanup());

  it('a fresh data directory is 0700 and everything in it is private after a chat, an index run and a vault snapshot; the umask is untouched', async () => {
    // The parent is made world-readable, as a home folder often is: only the data directory keeps others out.
    chmodSync(root.path, 0o755);
    const umask = process.umask();
    const dataDir = join(root.path, 'fresh', 'hearth');
    const core = open(dataDir);
    try {
      expect(process.umask()).toBe(umask);
      expect(mode(dataDir)).toBe(0o700);

      const model = await core.models.add(await testModelPath('stories260K'));
      core.models.setDefault('embedding', model.id);
      core.models.setDefault('chat', model.id);
      core.settings.update({ maxReplyTokens: 20 });
      const thread = core.chat.createThread('A private title');
      await core.chat.send(thread.id, 'Once upon a time');
      await core.chat.idle(thread.id);

      const docs = join(root.path, 'docs');
      mkdirSync(docs);
      writeFileSync(join(docs, 'notes.md'), '# Notes\n\nThe lighthouse keeper counts ships at night.\n');
      await indexPath(core, docs);

      await core.vault.create({ passphrase: 'a long passphrase' });
      const snapshot = await core.jobs.wait(core.vault.startSnapshot({}).id);
      expect(snapshot.status).toBe('completed');
      await core.privacy.idle();

      for (const file of ['hearth.db', 'hearth.db-wal', 'hearth.db-shm']) expect(mode(join(dataDir, file)), file).toBe(0o600);
      expect(tree(dataDir).some((entry) => entry.path.includes(`${join(dataDir, 'index')}/`))).toBe(true);
      expect(tree(dataDir).some((entry) => entry.path.startsWith(join(dataDir, 'vault')))).toBe(true);
      expect(openToOthers(dataDir)).toEqual([]);
      expect(process.umask()).toBe(umask);
      // The user's documents are theirs: left as they were.
      expect(mode(join(docs, 'notes.md'))).toBe(0o644);
    } finally {
      await core.dispose();
    }
    expect(openToOthers(dataDir)).toEqual([]);
  });

  it('an existing world-readable data directory is fixed at start, with one log line; linked and extra model folders are not touched', async () => {
    const dataDir = join(root.path, 'old');
    const first = open(dataDir);
    await first.dispose();
    // As an older Hearth left it: 0755 folders, 0644 files.
    mkdirSync(join(dataDir, 'index', 'chunks.lance'), { recursive: true });
    writeFileSync(join(dataDir, 'index', 'chunks.lance', 'data.lance'), 'x');
    writeFileSync(join(dataDir, 'models', 'old.gguf'), 'GGUF');
    for (const entry of [{ path: dataDir, isDir: true }, ...tree(dataDir)]) chmodSync(entry.path, entry.isDir ? 0o755 : 0o644);
    const before = tree(dataDir).length + 1;
    // A folder of the user's, linked in and named with --models-dir: not Hearth's to change.
    const mine = join(root.path, 'my-models');
    mkdirSync(mine);
    writeFileSync(join(mine, 'mine.gguf'), 'GGUF');
    chmodSync(mine, 0o755);
    chmodSync(join(mine, 'mine.gguf'), 0o644);
    symlinkSync(mine, join(dataDir, 'models', 'linked'));

    lines.length = 0;
    const core = open(dataDir, [mine]);
    try {
      expect(mode(dataDir)).toBe(0o700);
      expect(openToOthers(dataDir)).toEqual([]);
      const said = lines.filter((line) => line.includes('private'));
      expect(said).toHaveLength(1);
      const folders = tree(dataDir).filter((entry) => entry.isDir).length + 1;
      expect(said[0]).toContain(`${folders} folder(s) and ${before - folders} file(s)`);
      expect(said[0]).toContain(dataDir);
      expect(mode(mine)).toBe(0o755);
      expect(statSync(join(mine, 'mine.gguf')).mode & 0o777).toBe(0o644);
    } finally {
      await core.dispose();
    }

    // Fixed once: the next start has nothing to say.
    lines.length = 0;
    await open(dataDir, [mine]).dispose();
    expect(lines.filter((line) => line.includes('private'))).toEqual([]);
  });

  it('files another process creates and deletes while the start-up pass walks the folder (in-use records) are no error', async () => {
    const dataDir = join(root.path, 'busy');
    const inUse = join(dataDir, 'locks', 'in-use');
    mkdirSync(inUse, { recursive: true });
    // Another process churning world-readable records, as concurrent commands' in-use records come and go.
    const churn = spawn(process.execPath, [
      '-e',
      `const fs = require('node:fs'); const end = Date.now() + 2000; let i = 0;
       while (Date.now() < end) { const p = process.argv[1] + '/' + (i++ % 64) + '.json'; fs.writeFileSync(p, '{}', { mode: 0o644 }); fs.chmodSync(p, 0o644); fs.rmSync(p, { force: true }); }`,
      inUse,
    ]);
    const exited = new Promise((done) => churn.on('exit', done));
    let walks = 0;
    const failures: unknown[] = [];
    while (churn.exitCode === null) {
      try {
        new PrivateDataDir(dataDir, logger).prepare();
      } catch (error) {
        failures.push(error);
      }
      walks++;
      await turn();
    }
    await exited;
    expect(failures).toEqual([]);
    expect(walks).toBeGreaterThan(20);
    expect(openToOthers(dataDir)).toEqual([]);
  });
});
