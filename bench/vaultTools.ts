/**
 * The backup tools bench:vault compares, each driven as real child processes and measured by
 * GNU time (`/usr/bin/time`): CPU time (user + sys of the process and its children), wall
 * time and maximum resident set size.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface Measured {
  wallSeconds: number;
  cpuSeconds: number;
  userSeconds: number;
  sysSeconds: number;
  maxRssMegabytes: number;
  stdout: string;
}

export type Step = 'firstBackup' | 'secondBackup' | 'restore';

/** A tool's steps, each one or more measured commands (summed). */
export interface BackupTool {
  name: string;
  /** The repository (or target folder) the backups go to. */
  repo: string;
  init(): Promise<void>;
  backup(step: 'firstBackup' | 'secondBackup'): Promise<Measured[]>;
  restore(into: string): Promise<Measured[]>;
}

const TIME_FORMAT = '%e %U %S %M';

/** Runs `command args` under GNU time; throws with its stderr when it fails. */
export async function measure(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Measured> {
  const timeFile = join(process.env.TMPDIR ?? '/tmp', `bench-vault-time-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const child = spawn('/usr/bin/time', ['-f', TIME_FORMAT, '-o', timeFile, command, ...args], {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  const line = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1) ?? '';
  rmSync(timeFile, { force: true });
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}:\n${stderr.slice(-4000)}`);
  const [wall, user, sys, rssKb] = line.split(' ').map(Number);
  if ([wall, user, sys, rssKb].some((n) => n === undefined || !Number.isFinite(n))) throw new Error(`GNU time printed ${JSON.stringify(line)}`);
  return { wallSeconds: wall!, userSeconds: user!, sysSeconds: sys!, cpuSeconds: user! + sys!, maxRssMegabytes: rssKb! / 1024, stdout };
}

/** Bytes under a folder (files only). */
export function treeBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += treeBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

export function installed(command: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$0"', command], { stdio: 'ignore' }).status === 0;
}

const PASSWORD = 'bench passphrase';

export function hearthTool(input: { hearth: string; dataDir: string; usb: string; targetId: string; phraseFile: string }): BackupTool {
  const cli = (args: string[], withPassphrase = true) => {
    const env: NodeJS.ProcessEnv = { ...process.env, HEARTH_LOG: 'warn' };
    delete env.HEARTH_DATA_DIR;
    if (withPassphrase) env.HEARTH_VAULT_PASSPHRASE = PASSWORD;
    return measure(process.execPath, [input.hearth, ...args], { env });
  };
  return {
    name: 'hearth',
    repo: input.usb,
    async init() {},
    async backup() {
      // One command, as `restic backup` and `borg create` are: snapshot, then publish to the folder.
      return [await cli(['vault', 'snapshot', '--models', '--publish', input.targetId, '--json', '--data-dir', input.dataDir])];
    },
    async restore(into) {
      return [await cli(['vault', 'restore', '--folder', input.usb, '--data-dir', into, '--phrase-file', input.phraseFile, '--json'], false)];
    },
  };
}

export function resticTool(input: { dataDir: string; repo: string }): BackupTool {
  const env = { ...process.env, RESTIC_PASSWORD: PASSWORD, RESTIC_REPOSITORY: input.repo, RESTIC_CACHE_DIR: `${input.repo}-cache` };
  const restic = (args: string[]) => measure('restic', ['--quiet', ...args], { env });
  return {
    name: 'restic',
    repo: input.repo,
    async init() {
      await restic(['init']);
    },
    async backup() {
      return [await restic(['backup', '--exclude', join(input.dataDir, 'vault'), input.dataDir])];
    },
    async restore(into) {
      return [await restic(['restore', 'latest', '--target', into])];
    },
  };
}

export function borgTool(input: { dataDir: string; repo: string }): BackupTool {
  const env = { ...process.env, BORG_PASSPHRASE: PASSWORD, BORG_BASE_DIR: `${input.repo}-home`, BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes' };
  const borg = (args: string[], cwd?: string) => measure('borg', args, { env, cwd });
  let archives = 0;
  return {
    name: 'borg',
    repo: input.repo,
    async init() {
      await borg(['init', '--encryption', 'repokey', input.repo]);
    },
    async backup() {
      archives++;
      return [await borg(['create', '--compression', 'lz4', '--exclude', join(input.dataDir, 'vault'), `${input.repo}::a${archives}`, input.dataDir])];
    },
    async restore(into) {
      mkdirSync(into, { recursive: true });
      return [await borg(['extract', `${input.repo}::a${archives}`], into)];
    },
  };
}

/** The steps of one measurement summed (Hearth's snapshot + publish); max RSS is the larger. */
export function combine(parts: Measured[]): Omit<Measured, 'stdout'> {
  return {
    wallSeconds: parts.reduce((s, p) => s + p.wallSeconds, 0),
    cpuSeconds: parts.reduce((s, p) => s + p.cpuSeconds, 0),
    userSeconds: parts.reduce((s, p) => s + p.userSeconds, 0),
    sysSeconds: parts.reduce((s, p) => s + p.sysSeconds, 0),
    maxRssMegabytes: Math.max(...parts.map((p) => p.maxRssMegabytes)),
  };
}
