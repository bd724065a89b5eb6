import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readRestoreProgress, writeRestoreProgress } from '../../../src-main/core/vault/restoreProgress';
import { tempDir } from '../../support/tempDir';

const ROOT = 'bafyreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';
const FRESH = { root: ROOT, done: [], current: null };

describe('restore progress files', () => {
  let staging: ReturnType<typeof tempDir>;
  const progressFile = () => join(staging.path, 'restore-progress.json');
  beforeEach(() => {
    staging = tempDir('hearth-restore-progress-');
  });
  afterEach(() => staging.cleanup());

  it('reads back what was written, atomically (no temporary file left)', async () => {
    const progress = { root: ROOT, done: ['hearth.db', 'index/a.lance'], current: { path: 'models/m.gguf', chunks: 12, bytes: 4_000_000 } };
    await writeRestoreProgress(staging.path, progress);
    expect(await readRestoreProgress(staging.path, ROOT)).toEqual(progress);
    expect(readdirSync(staging.path)).toEqual(['restore-progress.json']);
  });

  it('starts from the beginning when there is no progress yet, or it is for another snapshot', async () => {
    expect(await readRestoreProgress(staging.path, ROOT)).toEqual(FRESH);
    await writeRestoreProgress(staging.path, { root: 'bafyother', done: ['hearth.db'], current: null });
    expect(await readRestoreProgress(staging.path, ROOT)).toEqual(FRESH);
  });

  it('starts from the beginning when the file is torn or does not match its schema, never failing later on a missing field', async () => {
    const damaged: Record<string, string> = {
      'a torn write': '{"root":"bafy',
      'not an object': '[1, 2, 3]',
      'null': 'null',
      'done not a list': JSON.stringify({ root: ROOT, done: 'hearth.db', current: null }),
      'done holding a number': JSON.stringify({ root: ROOT, done: ['hearth.db', 7], current: null }),
      'current without its counts': JSON.stringify({ root: ROOT, done: [], current: { path: 'hearth.db' } }),
      'a negative chunk count': JSON.stringify({ root: ROOT, done: [], current: { path: 'hearth.db', chunks: -1, bytes: 0 } }),
      'bytes as text': JSON.stringify({ root: ROOT, done: [], current: { path: 'hearth.db', chunks: 2, bytes: '100' } }),
      'current missing': JSON.stringify({ root: ROOT, done: ['hearth.db'] }),
    };
    for (const [what, text] of Object.entries(damaged)) {
      writeFileSync(progressFile(), text);
      expect(await readRestoreProgress(staging.path, ROOT), what).toEqual(FRESH);
    }
  });
});
