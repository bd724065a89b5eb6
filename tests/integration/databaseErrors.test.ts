import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HearthError } from '../../src-main/core/common/hearthError';
import { createCore } from '../../src-main/core/createCore';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { mountWritableTmpfs, type ReadOnlyMount } from '../support/readOnlyMount';
import { assertBuilt, runHearth } from '../support/server';
import { tempDir } from '../support/tempDir';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../support/testCore';

const open = (dataDir: string) =>
  createCore(
    { dataDir, host: 'server', version: 'test', gpu: 'off', threads: 1, catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH, library: { watch: false } },
    { logger: createConsoleLogger('silent') },
  );

/** A data directory whose hearth.db spans many pages: threads and messages, closed cleanly (no WAL left). */
async function seededDataDir(path: string): Promise<string> {
  const core = open(path);
  for (let i = 0; i < 40; i++) {
    const thread = core.chat.createThread(`Thread ${i}`, `A system prompt long enough to fill pages. ${'x'.repeat(2000)}`);
    core.library.createCollection(`Collection ${i} ${thread.id}`);
  }
  await core.dispose();
  return join(path, 'hearth.db');
}

function startError(dataDir: string): HearthError {
  try {
    const core = open(dataDir);
    void core.dispose();
  } catch (error) {
    if (error instanceof HearthError) return error;
    throw error;
  }
  throw new Error('the core started');
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

describe('a damaged hearth.db', () => {
  beforeAll(() => assertBuilt());

  const corruptions: Record<string, (file: string) => void> = {
    truncated: (file) => truncateSync(file, Math.floor(statSync(file).size / 2) + 100),
    'random bytes': (file) => writeFileSync(file, randomBytes(statSync(file).size)),
    'one bad page': (file) => {
      const pageSize = readFileSync(file).readUInt16BE(16);
      const pages = statSync(file).size / pageSize;
      expect(pages).toBeGreaterThan(10);
      const fd = openSync(file, 'r+');
      writeSync(fd, randomBytes(pageSize), 0, pageSize, pageSize * Math.floor(pages / 2));
      closeSync(fd);
    },
  };

  for (const [name, corrupt] of Object.entries(corruptions)) {
    it(`fails to start with DATABASE_CORRUPT, the path and what to do: ${name}`, async () => {
      const dir = tempDir('hearth-corrupt-');
      cleanups.push(dir.cleanup);
      const file = await seededDataDir(dir.path);
      corrupt(file);
      const error = startError(dir.path);
      expect(error.code).toBe('DATABASE_CORRUPT');
      expect(error.message).toContain(file);
      expect(error.message).toContain(`sqlite3 -readonly ${file} .dump`);
      expect(error.message).toContain('hearth vault restore --data-dir NEW_DIR');
    });
  }

  it('the CLI says so in one line with the code', async () => {
    const dir = tempDir('hearth-corrupt-cli-');
    cleanups.push(dir.cleanup);
    corruptions['random bytes']!(await seededDataDir(dir.path));
    const run = await runHearth(['collections', 'ls', '--data-dir', dir.path]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^error DATABASE_CORRUPT: ${join(dir.path, 'hearth.db').replaceAll('/', '\\/')} is damaged .*sqlite3 -readonly`, 'm'));
  });
});

describe('a read-only data directory (a real read-only mount)', () => {
  let mount: ReadOnlyMount;
  beforeAll(async () => {
    assertBuilt();
    mount = mountWritableTmpfs();
    await seededDataDir(join(mount.path, 'existing'));
    mkdirSync(join(mount.path, 'empty'));
    mount.makeReadOnly();
  });
  afterAll(() => mount?.unmount());

  it('fails to start with DATA_DIR_READ_ONLY and a hint, whether the library exists or not', () => {
    for (const dataDir of [join(mount.path, 'existing'), join(mount.path, 'empty'), join(mount.path, 'new')]) {
      const error = startError(dataDir);
      expect(error.code, dataDir).toBe('DATA_DIR_READ_ONLY');
      expect(error.message).toContain(dataDir);
      expect(error.message).toContain('--data-dir DIR');
    }
  });

  it('the CLI says so in one line with the code', async () => {
    const run = await runHearth(['collections', 'ls', '--data-dir', join(mount.path, 'existing')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error DATA_DIR_READ_ONLY: The data directory \S+existing cannot be written/m);
  });
});
