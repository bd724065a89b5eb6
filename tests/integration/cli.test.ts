import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MESSAGE_CHARS } from '#contract/api';
import type { ModelInfo, ThreadSummary } from '#contract/dto';
import { tempDir } from '../support/tempDir';
import { testModelPath } from '../support/testModels';

const root = resolve(__dirname, '..', '..');
const bin = join(root, 'bin', 'hearth.mjs');
const builtCli = join(root, 'out', 'main', 'cli.js');

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

describe('hearth command line (the built CLI, real models)', () => {
  const dataDir = tempDir('hearth-cli-test-');
  let stories: string;
  const children = new Set<ChildProcess>();

  // The same process environment a user's shell gives, pointed at a private library.
  const env = (): NodeJS.ProcessEnv => {
    const copy: NodeJS.ProcessEnv = { ...process.env, HEARTH_DATA_DIR: dataDir.path };
    delete copy.HEARTH_LOG;
    delete copy.HEARTH_GPU;
    return copy;
  };

  const start = (args: string[]) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    child.on('exit', () => children.delete(child));
    return child;
  };

  const run = (args: string[], timeoutMs = 60_000): Promise<RunResult> =>
    new Promise((resolvePromise, reject) => {
      const child = start(args);
      let stdout = '';
      let stderr = '';
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`hearth ${args.join(' ')} timed out\n${stderr}`));
      }, timeoutMs);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolvePromise({ code, signal, stdout, stderr });
      });
    });

  const cpu = ['--gpu', 'off', '--threads', '1'];

  beforeAll(async () => {
    if (!existsSync(builtCli)) {
      throw new Error(`${builtCli} is missing: run \`npm run build\` before these tests (npm test builds first).`);
    }
    stories = await testModelPath('stories260K');
  });

  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    dataDir.cleanup();
  });

  it('answers a question, streaming the reply to stdout', async () => {
    const result = await run(['chat', ...cpu, '--model', stories, '--max-tokens', '20', 'Once upon a time']);
    expect(result.stderr).not.toMatch(/^error /m);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().length).toBeGreaterThan(0);
    expect(result.stdout.endsWith('\n')).toBe(true);
    // The backend is said before the answer: on CPU because we asked for it, not a warning.
    expect(result.stderr).toMatch(/^Inference: CPU/m);
    expect(result.stderr).not.toMatch(/WARNING/);
  });

  it('lists the model it used and saves the chat in the library', async () => {
    const models = await run(['models', 'ls', '--json']);
    expect(models.code).toBe(0);
    const list = JSON.parse(models.stdout) as ModelInfo[];
    expect(list.map((m) => m.path)).toContain(stories);

    const threads = await run(['threads', 'ls', '--json']);
    expect(threads.code).toBe(0);
    const saved = JSON.parse(threads.stdout) as ThreadSummary[];
    expect(saved.find((t) => t.title === 'Once upon a time')?.messageCount).toBe(2);

    const table = await run(['threads', 'ls']);
    expect(table.stdout).toMatch(/Once upon a time/);
  });

  it('reports a missing model file as FILE_NOT_FOUND, exit 1, without a stack trace', async () => {
    const result = await run(['chat', ...cpu, '--model', '/nonexistent.gguf', 'hi']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error FILE_NOT_FOUND: .*\/nonexistent\.gguf/m);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stdout).toBe('');
  });

  it('reports a file that is not a GGUF model as CORRUPT_FILE', async () => {
    const fake = join(dataDir.path, 'not-a-model.gguf');
    writeFileSync(fake, 'this is plain text, not a model\n'.repeat(10));
    const result = await run(['chat', ...cpu, '--model', fake, 'hi']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error CORRUPT_FILE: /m);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('reports a truncated model as CORRUPT_FILE and a question too big for the context as MESSAGE_TOO_LARGE', async () => {
    const { readFileSync } = await import('node:fs');
    const cut = join(dataDir.path, 'cut.gguf');
    const bytes = readFileSync(stories);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const truncated = await run(['chat', ...cpu, '--model', cut, 'hi']);
    expect(truncated.code).toBe(1);
    expect(truncated.stderr).toMatch(/^error CORRUPT_FILE: .*truncated/m);

    const huge = await run(['chat', ...cpu, '--model', stories, '--context', '256', 'the dog ran. '.repeat(200)]);
    expect(huge.code).toBe(1);
    expect(huge.stderr).toMatch(/^error MESSAGE_TOO_LARGE: /m);
    expect(huge.stderr).not.toMatch(/^\s+at /m);
  });

  it('adds and removes models by path and id', async () => {
    const other = tempDir('hearth-cli-other-');
    try {
      const added = await run(['models', 'add', stories, '--json', '--data-dir', other.path]);
      expect(added.code).toBe(0);
      const model = JSON.parse(added.stdout) as ModelInfo;
      expect(model.path).toBe(stories);
      expect((await run(['models', 'rm', model.id, '--data-dir', other.path])).code).toBe(0);
      const list = await run(['models', 'ls', '--json', '--data-dir', other.path]);
      expect(JSON.parse(list.stdout)).toEqual([]);
      const missing = await run(['models', 'rm', model.id, '--data-dir', other.path]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/^error MODEL_NOT_FOUND: /m);
    } finally {
      other.cleanup();
    }
  });

  it('serves: prints the one-time URL line, opens a session with it, prints another on SIGUSR2, and exits 0 on SIGTERM', async () => {
    const rendererDir = join(dataDir.path, 'ui');
    mkdirSync(rendererDir, { recursive: true });
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>cli test</title>');
    const child = start(['serve', '--port', '0', '--renderer-dir', rendererDir, ...cpu]);
    let stdout = '';
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.on('close', (code, signal) => done({ code, signal })),
    );
    const url = await new Promise<URL>((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL line within 60 s\n${stderr}`)), 60_000);
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        const match = /^Hearth is running at (http:\/\/127\.0\.0\.1:\d+\/\?code=[A-Za-z0-9_-]+)$/m.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolveUrl(new URL(match[1]!));
        }
      });
      void exited.then(() => reject(new Error(`serve exited early\n${stderr}`)));
    });
    expect(stdout.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^Data directory: /m);
    expect(stderr).toMatch(/^Inference: CPU/m);

    await expect.poll(() => stderr, { timeout: 10_000 }).toMatch(new RegExp(`That URL works once\\. For another, press Enter \\(or kill -USR2 ${child.pid}\\)`));

    // The code buys the session cookie once; a script can use the cookie's value as a bearer token.
    const signIn = await fetch(url, { redirect: 'manual' });
    expect(signIn.status).toBe(303);
    const home = new URL(signIn.headers.get('location')!, url);
    const cookie = signIn.headers.getSetCookie()[0]!.split(';')[0]!;
    const page = await fetch(home, { headers: { Cookie: cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('cli test');
    const health = await fetch(new URL('/healthz', url), { headers: { Authorization: `Bearer ${cookie.split('=')[1]!}` } });
    expect(await health.json()).toEqual({ ok: true });
    expect((await fetch(new URL('/', url))).status).toBe(401);
    expect((await fetch(url, { redirect: 'manual' })).status).toBe(401);

    // Another browser: SIGUSR2 prints a fresh one-time URL on its own line.
    const printed = stdout;
    child.kill('SIGUSR2');
    await expect.poll(() => stdout.length > printed.length, { timeout: 10_000 }).toBe(true);
    const second = /^Hearth is running at (\S+)$/m.exec(stdout.slice(printed.length))?.[1];
    expect(second).toMatch(/\?code=[A-Za-z0-9_-]{43}$/);
    expect(second).not.toBe(url.href);
    expect((await fetch(second!, { redirect: 'manual' })).status).toBe(303);

    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    // The port is released.
    await expect(
      new Promise((ok, fail) => request(new URL('/healthz', url), ok).on('error', fail).end()),
    ).rejects.toThrow();
  });

  it('has --help for every command', async () => {
    for (const args of [
      ['--help'],
      ['serve', '--help'],
      ['chat', '--help'],
      ['models', '--help'],
      ['models', 'ls', '--help'],
      ['models', 'add', '--help'],
      ['models', 'rm', '--help'],
      ['threads', '--help'],
      ['threads', 'ls', '--help'],
      ['help', 'chat'],
    ]) {
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout, args.join(' ')).toMatch(/Usage: hearth/);
      expect(result.stderr, args.join(' ')).toBe('');
    }
  });

  it('prints the version from package.json', async () => {
    const result = await run(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('refuses a question over MAX_MESSAGE_CHARS and an over-long --system as bad usage, saving no chat', async () => {
    const before = JSON.parse((await run(['threads', 'ls', '--json'])).stdout) as ThreadSummary[];
    const long = await run(['chat', ...cpu, '--model', stories, 'x'.repeat(MAX_MESSAGE_CHARS + 1)]);
    expect(long.code, long.stderr).toBe(2);
    expect(long.stderr).toMatch(/QUESTION: 100,001 characters; the limit is 100,000/);
    const system = await run(['chat', ...cpu, '--model', stories, '--system', 's'.repeat(20_001), 'hi']);
    expect(system.code, system.stderr).toBe(2);
    expect(system.stderr).toMatch(/--system TEXT:/);
    const after = JSON.parse((await run(['threads', 'ls', '--json'])).stdout) as ThreadSummary[];
    expect(after).toHaveLength(before.length);
  });

  it('exits 2 with usage on stderr for an unknown command or bad options', async () => {
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown command "frobnicate"/);
    expect(unknown.stderr).toMatch(/Usage: hearth/);
    expect(unknown.stdout).toBe('');

    for (const args of [
      [],
      ['chat', 'no model given'],
      ['chat', '--model', stories],
      ['chat', '--model', stories, '--gpu', 'tpu', 'hi'],
      ['chat', '--model', stories, '--max-tokens', 'many', 'hi'],
      ['models'],
      ['models', 'frob'],
      ['models', 'add'],
      ['threads', 'ls', '--bogus'],
      ['serve', '--port', '70000'],
    ]) {
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/--help/);
    }
  });
});
