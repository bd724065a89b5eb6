import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scanSource } from '../../../src-main/core/library/folderScanner';
import { tempDir } from '../../support/tempDir';

const dirs: (() => void)[] = [];
afterEach(() => dirs.splice(0).forEach((cleanup) => cleanup()));

describe('scanSource', () => {
  it('lists files in a stable order, skipping hidden entries and tool folders', async () => {
    const dir = tempDir('hearth-scan-');
    dirs.push(dir.cleanup);
    for (const path of ['b.md', 'a/c.txt', '.hidden.md', '.git/config', 'node_modules/x/readme.md', '__pycache__/m.pyc', 'venv/lib.py', 'a/.secret/d.md']) {
      mkdirSync(join(dir.path, path, '..'), { recursive: true });
      writeFileSync(join(dir.path, path), 'x');
    }
    const { files, problems } = await scanSource(dir.path, 'folder');
    expect(files.map((f) => f.path)).toEqual([join(dir.path, 'a', 'c.txt'), join(dir.path, 'b.md')]);
    expect(problems).toEqual([]);
  });

  it('reports links back up the tree once and does not follow them again', async () => {
    const dir = tempDir('hearth-scan-');
    dirs.push(dir.cleanup);
    mkdirSync(join(dir.path, 'x'));
    writeFileSync(join(dir.path, 'x', 'f.md'), 'x');
    symlinkSync(dir.path, join(dir.path, 'x', 'up'));
    const { files, problems } = await scanSource(dir.path, 'folder');
    expect(files.map((f) => f.path)).toEqual([join(dir.path, 'x', 'f.md')]);
    expect(problems).toEqual([expect.objectContaining({ path: join(dir.path, 'x', 'up'), code: 'UNSUPPORTED' })]);
  });

  it('scans one file for a file source, and says when it is gone', async () => {
    const dir = tempDir('hearth-scan-');
    dirs.push(dir.cleanup);
    writeFileSync(join(dir.path, 'one.md'), 'hello');
    expect((await scanSource(join(dir.path, 'one.md'), 'file')).files).toEqual([
      expect.objectContaining({ path: join(dir.path, 'one.md'), sizeBytes: 5 }),
    ]);
    expect((await scanSource(join(dir.path, 'gone.md'), 'file')).problems).toEqual([expect.objectContaining({ code: 'UNREADABLE' })]);
  });
});
