import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSecretStore } from '../../src-main/core/ports/secretStore';
import { readServerIdentity } from '../../src-main/cli/serverIdentity';
import { spawnServe, type ServeRun } from '../support/server';
import { tempDir } from '../support/tempDir';
import { WireClient } from '../support/wireClient';

const root = resolve(__dirname, '..', '..');

interface RawReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A GET that leaves the body as sent (fetch would decompress it and hide the encoding). */
function rawGet(url: string, headers: Record<string, string> = {}): Promise<RawReply> {
  return new Promise((done, fail) => {
    const req = request(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', fail);
    req.end();
  });
}

/** Opens a one-time URL as a browser does: the session cookie and the page it leads to. */
async function signIn(url: string): Promise<{ home: string; cookie: string }> {
  const reply = await rawGet(url);
  expect(reply.status).toBe(303);
  const home = new URL(reply.headers.location!, url).href;
  const cookie = reply.headers['set-cookie']![0]!.split(';')[0]!;
  return { home, cookie };
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** Holds a port the way another program would. */
function occupy(port: number): Promise<Server> {
  return new Promise((done, fail) => {
    const blocker = createServer();
    blocker.once('error', fail);
    blocker.listen(port, '127.0.0.1', () => done(blocker));
  });
}

/** A port that nothing listens on right now. */
async function freePort(): Promise<number> {
  const probe = await occupy(0);
  const { port } = probe.address() as { port: number };
  await new Promise((done) => probe.close(done));
  return port;
}

describe('hearth serve keeps its port and token across restarts (the built CLI)', () => {
  const dir = tempDir('hearth-serve-restart-');
  const dataDir = join(dir.path, 'data');
  const opened = join(dir.path, 'opened.txt');
  const browser = join(dir.path, 'browser.sh');
  // A stand-in browser: a real program that records the URL it was asked to open.
  writeFileSync(browser, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${opened}'\n`);
  chmodSync(browser, 0o755);
  // No session bus: the secrets go to the data directory, where this test can look at them.
  const env: NodeJS.ProcessEnv = { ...process.env, HEARTH_DATA_DIR: dataDir, BROWSER: browser };
  delete env.DBUS_SESSION_BUS_ADDRESS;
  delete env.HEARTH_LOG;
  const cpu = ['--gpu', 'off', '--threads', '1'];
  const runs: ServeRun[] = [];
  const serve = async (args: string[]) => {
    const run = await spawnServe([...args, ...cpu], env);
    runs.push(run);
    return run;
  };
  afterAll(async () => {
    await Promise.all(runs.map((run) => run.stop()));
    dir.cleanup();
  });

  it('restarts on the same port with the same token: the cookie, the page and its WebSocket still work; --new-token and --port change them', async () => {
    // First start: a free port, a new token, both remembered; --open hands a URL of its own to $BROWSER.
    const first = await serve(['--open']);
    const port = portOf(first.url);
    const session = await signIn(first.url);
    await expect.poll(() => readFileSync(opened, 'utf8').trim().split('\n'), { timeout: 10_000 }).toHaveLength(1);
    const openedUrl = readFileSync(opened, 'utf8').trim();
    expect(openedUrl).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/\\?code=[A-Za-z0-9_-]{43}$`));
    expect(openedUrl).not.toBe(first.url);
    expect((await signIn(openedUrl)).home).toBe(session.home);

    // Kept encrypted, private to the user: the token is nowhere in the data directory in plain text.
    const token = session.cookie.split('=')[1]!;
    const stored = await readServerIdentity(new FileSecretStore(dataDir));
    expect(stored).toEqual({ port, token });
    for (const name of ['secrets.json', 'secret.key']) expect(statSync(join(dataDir, name)).mode & 0o777, name).toBe(0o600);
    for (const name of readdirSync(dataDir)) {
      const path = join(dataDir, name);
      if (statSync(path).isFile()) expect(readFileSync(path).includes(token), name).toBe(false);
    }
    await first.stop();

    // Second start, no options: same port, same token, same session path.
    const second = await serve([]);
    expect(portOf(second.url)).toBe(port);
    const reload = await rawGet(session.home, { Cookie: session.cookie });
    expect(reload.status).toBe(200);
    expect(reload.body.toString()).toContain('<div id="app">');
    const socketUrl = new URL('ws', session.home).href.replace(/^http/, 'ws');
    const client = await WireClient.open(socketUrl, { Cookie: session.cookie, Origin: `http://127.0.0.1:${port}` });
    expect((await client.call('runtime.state')).ok).toBe(true);
    await client.close();
    // One-time codes stay one-time across restarts: the first URL, spent before, is refused.
    expect((await rawGet(first.url)).status).toBe(401);
    // Without the cookie the session path is still closed.
    expect((await rawGet(session.home)).status).toBe(401);
    await second.stop();

    // --new-token while another program holds the remembered port: a free port for this start, a
    // warning, and the old session is signed out.
    const blocker = await occupy(port);
    try {
      const third = await serve(['--new-token']);
      expect(portOf(third.url)).not.toBe(port);
      expect(third.stderr()).toContain(`port ${port} (used last time) is taken`);
      const movedHome = new URL(new URL(session.home).pathname, third.url).href;
      expect((await rawGet(movedHome, { Cookie: session.cookie })).status).toBe(401);
      const renewed = await signIn(third.url);
      expect(new URL(renewed.home).pathname).not.toBe(new URL(session.home).pathname);
      await third.stop();
      // The taken port stays the remembered one; the new token is remembered at once.
      const afterThird = await readServerIdentity(new FileSecretStore(dataDir));
      expect(afterThird?.port).toBe(port);
      expect(afterThird?.token).toBe(renewed.cookie.split('=')[1]);
    } finally {
      await new Promise((done) => blocker.close(done));
    }

    // --port N: that port, from now on.
    const chosen = await freePort();
    const fourth = await serve(['--port', String(chosen)]);
    expect(portOf(fourth.url)).toBe(chosen);
    await fourth.stop();
    expect((await readServerIdentity(new FileSecretStore(dataDir)))?.port).toBe(chosen);
  }, 180_000);

  it('serves the built UI minified and compressed, hashed assets cached for good, the page never', async () => {
    const run = await serve(['--renderer-dir', join(root, 'out', 'renderer')]);
    const { home, cookie } = await signIn(run.url);
    const page = await rawGet(home, { Cookie: cookie, 'Accept-Encoding': 'gzip, deflate, br' });
    expect(page.headers['cache-control']).toBe('no-store');
    const script = /src="\.\/(assets\/index-[A-Za-z0-9_-]+\.js)"/.exec(page.body.toString())?.[1];
    expect(script, 'the built index.html names its hashed script').toBeDefined();
    const plain = await rawGet(new URL(script!, home).href, { Cookie: cookie });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    expect(plain.headers.vary).toBe('Accept-Encoding');
    // Minified: a readable bundle has a line every 30 to 40 characters; this one, a few per 100 kB.
    const text = plain.body.toString();
    expect(text.length / text.split('\n').length).toBeGreaterThan(1000);

    const br = await rawGet(new URL(script!, home).href, { Cookie: cookie, 'Accept-Encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(Number(br.headers['content-length'])).toBe(br.body.length);
    expect(br.body.length).toBeLessThan(plain.body.length / 3);
    expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);

    const gz = await rawGet(new URL(script!, home).href, { Cookie: cookie, 'Accept-Encoding': 'gzip;q=1, br;q=0' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
    await run.stop();
  }, 120_000);

  it('npm start skips an up-to-date build and sets the URL apart', async () => {
    const startEnv = { ...env };
    delete startEnv.DISPLAY;
    delete startEnv.WAYLAND_DISPLAY;
    const child = spawn(process.execPath, [join(root, 'scripts', 'app.mjs'), '--server', ...cpu], { cwd: root, env: startEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    try {
      await expect.poll(() => stdout, { timeout: 60_000, interval: 200 }).toMatch(/Hearth is running at http:\/\/127\.0\.0\.1:\d+\/\?code=/);
      expect(stderr).toContain('The build in out/ is up to date.');
      expect(stderr).not.toMatch(/vite|Building/);
      // The URL line stands between two rules, with nothing else on stdout.
      expect(stdout).toMatch(/^\n─+\n {2}Hearth is running at \S+\n─+\n\n$/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 90_000);
});
