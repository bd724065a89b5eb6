import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertDataDirFree, dataDirHolders, holdDataDir, locksDir } from '../../src-main/core/storage/dataDirHolders';
import { tempDir } from '../support/tempDir';

describe('data directory holders', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => (dir = tempDir('hearth-holders-')));
  afterEach(() => dir.cleanup());

  it('records each open core; a restore is refused with DATA_DIR_IN_USE until every holder has released', () => {
    assertDataDirFree(dir.path, 'Restore refused');
    const app = holdDataDir(dir.path, 'the Hearth app');
    const command = holdDataDir(dir.path, 'hearth vault ls');
    expect(dataDirHolders(dir.path).map((h) => h.purpose).sort()).toEqual(['hearth vault ls', 'the Hearth app']);
    expect(() => assertDataDirFree(dir.path, 'Restore refused')).toThrow(
      expect.objectContaining({ code: 'DATA_DIR_IN_USE', message: expect.stringContaining(`pid ${process.pid}`) }),
    );
    app.release();
    expect(() => assertDataDirFree(dir.path, 'Restore refused')).toThrow(expect.objectContaining({ code: 'DATA_DIR_IN_USE' }));
    command.release();
    command.release();
    assertDataDirFree(dir.path, 'Restore refused');
    expect(readdirSync(join(locksDir(dir.path), 'in-use'))).toEqual([]);
  });

  it('a record left by a process that died (kill -9) is stale: removed, and the directory is free', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '-e', `import('${join(__dirname, '..', '..', 'src-main', 'core', 'storage', 'dataDirHolders.ts')}').then((m) => { m.holdDataDir(${JSON.stringify(dir.path)}, 'hearth serve'); console.log('held'); setInterval(() => {}, 1e6); })`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((ready) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && ready()));
    expect(dataDirHolders(dir.path)).toMatchObject([{ pid: child.pid, purpose: 'hearth serve' }]);
    expect(() => assertDataDirFree(dir.path, 'Restore refused')).toThrow(expect.objectContaining({ code: 'DATA_DIR_IN_USE', message: expect.stringContaining('hearth serve') }));
    child.kill('SIGKILL');
    await new Promise((done) => child.once('close', done));
    assertDataDirFree(dir.path, 'Restore refused');
    expect(readdirSync(join(locksDir(dir.path), 'in-use'))).toEqual([]);
  });

  it('a record from another host counts as a holder (it cannot be checked from here); an unreadable one does not', () => {
    const inUse = join(locksDir(dir.path), 'in-use');
    mkdirSync(inUse, { recursive: true });
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    writeFileSync(join(inUse, 'junk.json'), '{');
    writeFileSync(join(inUse, `${dead}-0000aaaa.json`), JSON.stringify({ pid: dead, hostname: hostname(), processStart: null, purpose: 'hearth serve', since: 1, token: 't' }));
    writeFileSync(join(inUse, 'far.json'), JSON.stringify({ pid: dead, hostname: 'far-away', processStart: null, purpose: 'hearth serve', since: 1, token: 'u' }));
    expect(dataDirHolders(dir.path)).toMatchObject([{ hostname: 'far-away' }]);
    expect(readdirSync(inUse)).toEqual(['far.json']);
    expect(() => assertDataDirFree(dir.path, 'Restore refused')).toThrow(expect.objectContaining({ code: 'DATA_DIR_IN_USE', message: expect.stringContaining('on far-away') }));
  });
});
