import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { WireMessage } from '#contract/client';
import type { Result } from '#contract/errors';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { createCore } from '../../src-main/core/createCore';
import { assertBuilt, runHearth, startServe } from '../support/server';
import { tempDir } from '../support/tempDir';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../support/testCore';
import { testModelPath } from '../support/testModels';

/** Whether the text holds a character a terminal would act on (C0 but newline, DEL, C1, bidi overrides). */
function rawControls(text: string): string[] {
  return [...text].filter((c) => {
    const code = c.charCodeAt(0);
    return (code < 0x20 && code !== 0x0a) || (code >= 0x7f && code <= 0x9f) || (code >= 0x202a && code <= 0x202e);
  });
}

/** GET over raw node:http with the bearer token; resolves with the status, or fails after `ms`. */
function get(url: URL, path: string, token: string, ms = 5_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, headers: { Authorization: `Bearer ${token}` }, agent: false, timeout: ms }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} did not answer in ${ms} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The built CLI and `hearth serve` with a FIFO named *.gguf and hostile file names in the library. */
describe('hearth with FIFOs and hostile file names', () => {
  const data = tempDir('hearth-cli-hostile-');
  const docs = tempDir('hearth-cli-hostile-docs-');
  const fifo = join(data.path, 'models', 'x.gguf');
  const hostileName = 'evil\x1b]52;c;cHduZWQ=\x07\r\nerror FORGED: line\u202e.md';
  const run = (args: string[]) => runHearth([...args, '--data-dir', data.path, '--gpu', 'off', '--threads', '1']);

  beforeAll(async () => {
    assertBuilt();
    mkdirSync(join(data.path, 'models'), { recursive: true });
    const stories = await testModelPath('stories260K');
    copyFileSync(stories, join(data.path, 'models', 'stories260K.gguf'));
    execFileSync('mkfifo', [fifo]);
    const seed = createCore(
      { dataDir: data.path, host: 'server', version: 'test', gpu: 'off', catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH },
      { logger: createConsoleLogger('error') },
    );
    const model = (await seed.models.list()).find((m) => m.path.endsWith('stories260K.gguf'))!;
    seed.models.setDefault('embedding', model.id);
    await seed.dispose();
    writeFileSync(join(docs.path, hostileName), '# Bees\n\nVarroa mites weaken a colony over the winter.\n');
    // Empty, so `hearth index` lists it among what it skipped, by name.
    writeFileSync(join(docs.path, 'empty\x1b[2J\rforged\u202e.txt'), '');
    writeFileSync(join(docs.path, 'plain.md'), '# Tyres\n\nA thorn in the casing causes a slow puncture.\n');
  });
  afterAll(() => {
    data.cleanup();
    docs.cleanup();
  });

  it('`models ls` answers and lists the real model; add, import and fit of the FIFO say NOT_A_REGULAR_FILE', async () => {
    const started = Date.now();
    const ls = await run(['models', 'ls', '--json']);
    expect(ls.code, ls.stderr).toBe(0);
    expect((JSON.parse(ls.stdout) as { path: string }[]).map((m) => m.path)).toEqual([join(data.path, 'models', 'stories260K.gguf')]);
    for (const args of [['models', 'add', fifo], ['models', 'import', fifo], ['models', 'import', fifo, '--copy'], ['models', 'fit', fifo]]) {
      const refused = await run(args);
      expect(refused.code, `${args.join(' ')}: ${refused.stderr}`).toBe(1);
      expect(refused.stderr).toMatch(/^error NOT_A_REGULAR_FILE: .*x\.gguf is a pipe \(FIFO\)/m);
    }
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('reads a secret from a named pipe (a shell idiom), and refuses a device as a secret file', async () => {
    const pipe = join(data.path, 'phrase.fifo');
    execFileSync('mkfifo', [pipe]);
    const writer = spawn('sh', ['-c', `printf 'not a valid phrase at all' > '${pipe}'`]);
    const env = { ...process.env, HEARTH_VAULT_PASSPHRASE: 'a passphrase' };
    const fromPipe = await runHearth(['vault', 'import', '--phrase-file', pipe, '--data-dir', data.path], env);
    writer.kill();
    rmSync(pipe, { force: true });
    // The phrase was read from the pipe and judged on its words.
    expect(fromPipe.stderr).toMatch(/^error WRONG_PASSPHRASE: That is not a valid recovery phrase/m);
    const device = await runHearth(['vault', 'import', '--phrase-file', '/dev/zero', '--data-dir', data.path], env);
    expect(device.code).toBe(1);
    expect(device.stderr).toMatch(/^error NOT_A_REGULAR_FILE: \/dev\/zero is a character device/m);
  });

  it('`index` and `docs ls` show a file name with ESC, CR, newline and a bidi override as visible escapes', async () => {
    const index = await run(['index', docs.path, '--collection', 'Hostile']);
    expect(index.code, index.stderr).toBe(0);
    expect(rawControls(index.stdout)).toEqual([]);
    expect(index.stdout).toContain('empty\\x1b[2J\\rforged\\u202e.txt');
    // The progress bar draws with CR and erases with CSI K itself; nothing else raw may reach stderr.
    expect(rawControls(index.stderr.replaceAll('\r', '').replaceAll('\x1b[K', ''))).toEqual([]);
    const ls = await run(['docs', 'ls']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(rawControls(ls.stdout)).toEqual([]);
    expect(ls.stdout).toContain('evil\\x1b]52;c;cHduZWQ=\\x07\\r\\nerror FORGED: line\\u202e.md');
    expect(ls.stdout.split('\n').some((line) => line.startsWith('error FORGED'))).toBe(false);
    // JSON stays JSON: the name comes back exactly.
    const json = JSON.parse((await run(['docs', 'ls', '--json'])).stdout) as { path: string }[];
    expect(json.map((d) => d.path)).toContain(join(docs.path, hostileName));
  });

  it('`hearth serve` keeps answering models.list, GET / and vault.status after many listings and refusals', async () => {
    const server = await startServe(['--data-dir', data.path, '--gpu', 'off', '--threads', '1']);
    const url = new URL(server.url);
    // The one-time code buys the session cookie; its value serves as a bearer token for a script.
    const signIn = await fetch(url, { redirect: 'manual' });
    expect(signIn.status).toBe(303);
    const home = new URL(signIn.headers.get('location')!, url).pathname;
    const token = signIn.headers.getSetCookie()[0]!.split(';')[0]!.split('=')[1]!;
    const ws = new WebSocket(`ws://${url.host}/ws`, { headers: { Authorization: `Bearer ${token}` } });
    const results = new Map<number, (result: Result<unknown>) => void>();
    ws.on('message', (raw) => {
      const message = JSON.parse(String(raw)) as WireMessage;
      if (message.t === 'result' && message.id !== null) results.get(message.id)?.(message.result);
    });
    let nextId = 1;
    const call = (name: string, input: unknown, ms = 5_000) =>
      new Promise<Result<unknown>>((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => reject(new Error(`${name} #${id} did not answer in ${ms} ms`)), ms);
        results.set(id, (result) => {
          clearTimeout(timer);
          resolve(result);
        });
        ws.send(JSON.stringify({ t: 'call', id, name, input }));
      });
    try {
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      for (let i = 0; i < 12; i++) {
        const listed = await call('models.list', {});
        expect(listed.ok && (listed.value as { path: string }[]).map((m) => m.path)).toEqual([join(data.path, 'models', 'stories260K.gguf')]);
        const added = await call('models.add', { path: fifo });
        expect(added).toMatchObject({ ok: false, error: { code: 'NOT_A_REGULAR_FILE' } });
      }
      expect(await get(url, home, token)).toBe(200);
      expect(await get(url, '/healthz', token)).toBe(200);
      expect(await call('vault.status', {}, 2_000)).toMatchObject({ ok: true });
    } finally {
      ws.close();
      await server.stop();
    }
  });

  it('`hearth serve` answers a document replaced by a FIFO with 404 at once, and keeps answering', async () => {
    const listed = JSON.parse((await run(['docs', 'ls', '--json'])).stdout) as { id: string; path: string }[];
    const plain = listed.find((d) => d.path === join(docs.path, 'plain.md'))!;
    expect(plain).toBeDefined();
    const server = await startServe(['--data-dir', data.path, '--gpu', 'off', '--threads', '1']);
    const url = new URL(server.url);
    const signIn = await fetch(url, { redirect: 'manual' });
    expect(signIn.status).toBe(303);
    const token = signIn.headers.getSetCookie()[0]!.split(';')[0]!.split('=')[1]!;
    try {
      expect(await get(url, `/documents/${plain.id}/file`, token)).toBe(200);
      rmSync(plain.path);
      execFileSync('mkfifo', [plain.path]);
      // Each fetch is answered within 2 s (a FIFO opened for reading would block until a writer came).
      for (let i = 0; i < 6; i++) expect(await get(url, `/documents/${plain.id}/file`, token, 2_000)).toBe(404);
      expect(await get(url, '/healthz', token, 2_000)).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
