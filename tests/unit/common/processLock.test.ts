import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, inspectLock, withLock } from '../../../src-main/core/common/processLock';
import { currentOwner, livenessOf } from '../../../src-main/core/common/processOwner';
import { tempDir } from '../../support/tempDir';

const CHILD = join(__dirname, '..', '..', 'support', 'lockChild.ts');

/** The pid of a process that has run and exited: dead, and (for a while) not reused. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

function ownerRecord(pid: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ pid, hostname: hostname(), processStart: null, purpose: 'vault snapshot', since: Date.now(), token: 'a-token', ...extra });
}

describe('processLock', () => {
  let dir: ReturnType<typeof tempDir>;
  let lockPath: string;
  const children: ChildProcess[] = [];

  beforeEach(() => {
    dir = tempDir('hearth-lock-');
    lockPath = join(dir.path, 'locks', 'vault.lock');
  });
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    dir.cleanup();
  });

  it('holds the lock with its owner recorded, refuses a second holder at once with LOCK_HELD, and releases', async () => {
    const lock = await acquireLock(lockPath, { purpose: 'vault snapshot', waitMs: 0 });
    const record = JSON.parse(readFileSync(lockPath, 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ pid: process.pid, hostname: hostname(), purpose: 'vault snapshot' });
    expect(await inspectLock(lockPath)).toMatchObject({ stale: false, owner: { pid: process.pid } });
    await expect(acquireLock(lockPath, { purpose: 'vault gc', waitMs: 0 })).rejects.toMatchObject({
      code: 'LOCK_HELD',
      message: expect.stringContaining(`pid ${process.pid}`),
    });
    await lock.release();
    await lock.release();
    expect(existsSync(lockPath)).toBe(false);
    expect(await inspectLock(lockPath)).toBeNull();
    // No temp file is left beside it.
    expect(readdirSync(join(dir.path, 'locks'))).toEqual([]);
  });

  it('waits for the holder within the bounded wait, saying who it waits for', async () => {
    const first = await acquireLock(lockPath, { purpose: 'vault snapshot', waitMs: 0 });
    const waitedFor: number[] = [];
    setTimeout(() => void first.release(), 300);
    const started = Date.now();
    const second = await acquireLock(lockPath, { purpose: 'vault publish', waitMs: 5_000, onWait: (holder) => waitedFor.push(holder.pid) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(waitedFor).toEqual([process.pid]);
    await second.release();
  });

  it('gives up after the wait with LOCK_HELD, and stops waiting when aborted', async () => {
    const held = await acquireLock(lockPath, { purpose: 'vault snapshot', waitMs: 0 });
    const started = Date.now();
    await expect(acquireLock(lockPath, { purpose: 'vault gc', waitMs: 400 })).rejects.toMatchObject({ code: 'LOCK_HELD', message: expect.stringContaining('did not finish within') });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    await expect(acquireLock(lockPath, { purpose: 'vault gc', waitMs: 60_000, signal: abort.signal })).rejects.toMatchObject({ name: 'AbortError' });
    await held.release();
  });

  it('takes over a stale lock whose owner pid is gone (the stale-lock rule)', async () => {
    mkdirSync(join(dir.path, 'locks'));
    const pid = deadPid();
    expect(livenessOf({ pid, hostname: hostname(), processStart: null })).toBe('dead');
    writeFileSync(lockPath, ownerRecord(pid));
    // A temp file a killed process left between writing and linking its record.
    writeFileSync(`${lockPath}.${pid}.0123abcd.tmp`, ownerRecord(pid));
    expect(await inspectLock(lockPath)).toMatchObject({ stale: true, owner: { pid } });
    const lock = await acquireLock(lockPath, { purpose: 'vault snapshot', waitMs: 0 });
    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toMatchObject({ pid: process.pid, token: lock.owner.token });
    expect(readdirSync(join(dir.path, 'locks')).sort()).toEqual(['vault.lock']);
    await lock.release();
  });

  it('takes over a lock whose pid now names another process (started at another time), and one that is not a record', async () => {
    mkdirSync(join(dir.path, 'locks'));
    const own = currentOwner('x');
    if (own.processStart !== null) {
      writeFileSync(lockPath, ownerRecord(process.pid, { processStart: String(Number(own.processStart) + 1) }));
      await (await acquireLock(lockPath, { purpose: 'vault snapshot', waitMs: 0 })).release();
    }
    writeFileSync(lockPath, 'not json at all');
    await (await acquireLock(lockPath, { purpose: 'vault snapshot', waitMs: 0 })).release();
    expect(existsSync(lockPath)).toBe(false);
  });

  it('never breaks a lock held from another host; the message names the file to delete', async () => {
    mkdirSync(join(dir.path, 'locks'));
    writeFileSync(lockPath, ownerRecord(deadPid(), { hostname: 'another-host.example' }));
    await expect(acquireLock(lockPath, { purpose: 'vault snapshot', waitMs: 100 })).rejects.toMatchObject({
      code: 'LOCK_HELD',
      message: expect.stringContaining(`on another-host.example`),
    });
    await expect(acquireLock(lockPath, { purpose: 'vault snapshot', waitMs: 0 })).rejects.toMatchObject({ message: expect.stringContaining(`delete ${lockPath}`) });
    expect(await inspectLock(lockPath)).toMatchObject({ stale: false });
  });

  it('a holder killed with SIGKILL leaves a stale lock that the next taker takes over', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, 'hold', lockPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    await new Promise<void>((ready, fail) => {
      child.stdout!.on('data', (data: Buffer) => data.toString().includes('held') && ready());
      child.once('exit', (code) => fail(new Error(`holder exited with ${code}`)));
    });
    await expect(acquireLock(lockPath, { purpose: 'vault gc', waitMs: 0 })).rejects.toMatchObject({ code: 'LOCK_HELD', message: expect.stringContaining(`pid ${child.pid}`) });
    child.kill('SIGKILL');
    await new Promise((done) => child.once('close', done));
    await withLock(lockPath, { purpose: 'vault gc', waitMs: 0 }, async (lock) => {
      expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toMatchObject({ pid: process.pid, token: lock.owner.token });
    });
  });

  it('three real processes racing for one lock (with a stale lock to break first) never hold it together', async () => {
    mkdirSync(join(dir.path, 'locks'));
    writeFileSync(lockPath, ownerRecord(deadPid()));
    const log = join(dir.path, 'log.txt');
    writeFileSync(log, '');
    const startAt = Date.now() + 2_500;
    const runs = [1, 2, 3].map(() => {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, 'race', lockPath, log, '12', '3', String(startAt)], { stdio: 'inherit' });
      children.push(child);
      return new Promise<number | null>((done) => child.once('exit', done));
    });
    expect(await Promise.all(runs)).toEqual([0, 0, 0]);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3 * 12 * 2);
    for (let i = 0; i < lines.length; i += 2) {
      const [inLine, outLine] = [lines[i]!, lines[i + 1]!];
      expect(inLine.startsWith('in ')).toBe(true);
      expect(outLine).toBe(inLine.replace('in ', 'out '));
    }
    // More than one process held it, and nothing is left behind.
    expect(new Set(lines.map((l) => l.split(' ')[1])).size).toBe(3);
    expect(readdirSync(join(dir.path, 'locks'))).toEqual([]);
  }, 30_000);
});
