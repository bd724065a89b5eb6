import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** Fails with a clear message when the tests run before `npm run build`. */
export function assertBuilt(): void {
  for (const file of ['out/main/cli.js', 'out/renderer/index.html']) {
    if (!existsSync(join(root, file))) throw new Error(`${file} is missing: run \`npm run build\` first (npm test does).`);
  }
}

export interface HearthRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `hearth` CLI once as a real child process and collects its output. */
export function runHearth(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<HearthRun> {
  return new Promise<HearthRun>((done) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'hearth.mjs'), ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** The line `hearth serve` prints for each one-time URL (at start, and on Enter or SIGUSR2). */
export const SERVE_URL_LINE = /^Hearth is running at (http:\/\/127\.0\.0\.1:\d+\/\?code=[A-Za-z0-9_-]+)$/gm;

export interface ServeRun {
  /** The one-time URL printed at start: it opens one browser session, once. */
  url: string;
  process: ChildProcess;
  /** What it has written to stderr so far. */
  stderr(): string;
  /** Asks the running server for another one-time URL (SIGUSR2) and waits for it. */
  newUrl(): Promise<string>;
  stop(): Promise<void>;
}

/** Starts `hearth serve` on a free port as a real child process and waits for the URL it prints. */
export function startServe(args: string[]): Promise<ServeRun> {
  return spawnServe(['--port', '0', ...args]);
}

/** Starts `hearth serve` with exactly these arguments (and environment) and waits for the URL it prints. */
export async function spawnServe(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ServeRun> {
  assertBuilt();
  const child = spawn(process.execPath, [join(root, 'bin', 'hearth.mjs'), 'serve', ...args], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const urls = () => [...stdout.matchAll(SERVE_URL_LINE)].map((m) => m[1]!);
  /** Waits until `hearth serve` has printed more than `count` URLs, and returns the newest. */
  const urlAfter = (count: number) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`hearth serve printed no new URL in 60 s. stderr:\n${stderr}`)), 60_000);
      const check = () => {
        const all = urls();
        if (all.length > count) done(null, all[all.length - 1]!);
      };
      const exited = (code: number | null) => done(new Error(`hearth serve exited with ${code}. stderr:\n${stderr}`));
      const done = (error: Error | null, url?: string) => {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        child.off('exit', exited);
        if (error) reject(error);
        else resolve(url!);
      };
      child.stdout!.on('data', check);
      child.once('exit', exited);
      check();
    });
  const url = await urlAfter(0);
  return {
    url,
    process: child,
    stderr: () => stderr,
    newUrl() {
      const count = urls().length;
      child.kill('SIGUSR2');
      return urlAfter(count);
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
