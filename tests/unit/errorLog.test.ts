import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCliLogger, ErrorLog } from '../../src-main/cli/errorLog';
import { HearthError } from '../../src-main/core/common/hearthError';
import { tempDir } from '../support/tempDir';

const dirs: Array<{ cleanup: () => void }> = [];
function scratch(): string {
  const dir = tempDir('hearth-error-log-');
  dirs.push(dir);
  return dir.path;
}
afterAll(() => dirs.forEach((d) => d.cleanup()));

function logger(options: { serving?: boolean } = {}) {
  const dataDir = scratch();
  const log = new ErrorLog(null);
  log.useDataDir(dataDir);
  const lines: string[] = [];
  const path = join(dataDir, 'logs', 'hearth-cli.log');
  return { log, lines, path, logger: createCliLogger('warn', (t) => lines.push(t), log, options) };
}

describe('the CLI error log', () => {
  it('keeps stacks in <dataDir>/logs/hearth-cli.log (0600), never on stderr', () => {
    const { lines, path, logger: cli } = logger();
    cli.warn('job 1 (vault.publish) failed', new HearthError('TARGET_NOT_FOUND', 'The backup folder /x does not exist'));
    // A one-shot command reports an expected failure itself: the log line goes to the file only.
    expect(lines).toEqual([]);
    const text = readFileSync(path, 'utf8');
    expect(text).toContain('warn: job 1 (vault.publish) failed');
    expect(text).toMatch(/^\s+at /m);
    expect(statSync(path).mode & 0o777).toBe(0o600);

    cli.warn('the data directory is open to other users', new Error('EPERM: not permitted'));
    expect(lines).toEqual([`[hearth warn] the data directory is open to other users: INTERNAL: EPERM: not permitted (details in ${path})\n`]);
    cli.warn('a plain warning', 'with a note');
    cli.info('below the level');
    expect(lines.at(-1)).toBe('[hearth warn] a plain warning: with a note\n');
    expect(lines.join('')).not.toMatch(/^\s+at /m);
  });

  it('a server prints the expected failures too, as one line with the code', () => {
    const { lines, path, logger: cli } = logger({ serving: true });
    cli.warn('job 2 (vault.snapshot) failed', new HearthError('DISK_FULL', 'The disk is full'));
    expect(lines).toEqual([`[hearth warn] job 2 (vault.snapshot) failed: DISK_FULL: The disk is full (details in ${path})\n`]);
  });

  it('moves a log past 1 MiB aside, and writes nothing through a link at its name', () => {
    const { log, path } = logger();
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, 'x'.repeat(1024 * 1024 + 1));
    expect(log.write('after', ['detail'])).toBe(path);
    expect(statSync(`${path}.1`).size).toBe(1024 * 1024 + 1);
    expect(readFileSync(path, 'utf8')).toMatch(/after\ndetail\n/);

    const linked = logger();
    const elsewhere = join(scratch(), 'not-a-log');
    mkdirSync(join(linked.path, '..'), { recursive: true });
    symlinkSync(elsewhere, linked.path);
    expect(linked.log.write('refused', [new Error('x')])).toBeNull();
    expect(existsSync(elsewhere)).toBe(false);
  });

  it('falls back to the library in use when it exists, else to the temp folder', () => {
    const library = scratch();
    expect(new ErrorLog(library).path).toBe(join(library, 'logs', 'hearth-cli.log'));
    expect(new ErrorLog(join(library, 'absent')).path).toMatch(/hearth-cli-[^/]+\.log$/);
  });
});
