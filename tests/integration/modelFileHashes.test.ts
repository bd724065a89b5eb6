import { createHash } from 'node:crypto';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelFileHashes } from '../../src-main/core/models/modelFileHashes';
import { openDatabase, type Db } from '../../src-main/core/storage/database';
import { FileHashRepository } from '../../src-main/core/storage/fileHashRepository';
import { tempDir } from '../support/tempDir';

const sha = (data: string) => createHash('sha256').update(data).digest('hex');

describe('model file hashes (real SQLite)', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });

  function setup(): { db: Db; dir: string; hashes: ModelFileHashes } {
    const dir = tempDir('hearth-hashes-');
    const db = openDatabase(join(dir.path, 'hearth.db'));
    cleanups.push(dir.cleanup, () => db.close());
    return { db, dir: dir.path, hashes: new ModelFileHashes(new FileHashRepository(db)) };
  }

  it('reads a file through once, keeps its sha256, and reads it again only when it changed', async () => {
    const { db, dir, hashes } = setup();
    const path = join(dir, 'm.gguf');
    writeFileSync(path, 'first version');
    const [a, b] = await Promise.all([hashes.hash(path), hashes.hash(path)]);
    expect(a).toEqual({ sha256: sha('first version'), sizeBytes: 13 });
    expect(b).toEqual(a);
    expect(db.prepare('SELECT COUNT(*) AS n FROM file_hashes').get()).toEqual({ n: 1 });

    // The cache is what answers while the file is as it was: a row changed by hand shows it.
    db.prepare('UPDATE file_hashes SET sha256 = ?').run('0'.repeat(64));
    expect((await hashes.hash(path)).sha256).toBe('0'.repeat(64));

    // Same size, new mtime: read again.
    writeFileSync(path, 'other version');
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    expect(await hashes.hash(path)).toEqual({ sha256: sha('other version'), sizeBytes: 13 });
  });

  it('keeps a sha256 a download verified, without reading the file', async () => {
    const { dir, hashes } = setup();
    const path = join(dir, 'd.gguf');
    writeFileSync(path, 'downloaded');
    await hashes.record(path, 'AB'.repeat(32));
    expect((await hashes.hash(path)).sha256).toBe('ab'.repeat(32));
  });
});
