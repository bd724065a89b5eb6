import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppInfo, ThreadSummary } from '#contract/dto';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { createCore } from '../../src-main/core/createCore';
import { startServe, type ServeRun } from '../support/server';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../support/testCore';
import { tempDir } from '../support/tempDir';
import { WireClient } from '../support/wireClient';

/** Opens a one-time URL as a browser does: the session cookie and the page it leads to. */
function signIn(url: string): Promise<{ home: string; cookie: string }> {
  return new Promise((done, fail) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      done({ home: new URL(res.headers.location!, url).href, cookie: res.headers['set-cookie']![0]!.split(';')[0]! });
    });
    req.on('error', fail);
    req.end();
  });
}

async function seed(dataDir: string, title: string): Promise<void> {
  const core = createCore(
    { dataDir, host: 'server', version: 'test', gpu: 'off', catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH },
    { logger: createConsoleLogger('error') },
  );
  core.chat.createThread(title);
  await core.dispose();
}

/**
 * "Switch to the restored data" against the built `hearth serve`: the folder is checked
 * first, then the server closes its data and opens the other behind the same port and token,
 * so the same session reconnects and sees the other data.
 */
describe('hearth serve switches to another data folder on request (the built CLI)', () => {
  const dir = tempDir('hearth-serve-switch-');
  const first = join(dir.path, 'first');
  const restored = join(dir.path, 'restored');
  let server: ServeRun;
  let session: { home: string; cookie: string };
  const origin = () => new URL(session.home).origin;
  const connect = () => WireClient.open(new URL('ws', session.home).href.replace(/^http/, 'ws'), { Cookie: session.cookie, Origin: origin() });

  beforeAll(async () => {
    await seed(first, 'A chat in the first folder');
    await seed(restored, 'A chat in the restored folder');
    server = await startServe(['--data-dir', first, '--gpu', 'off', '--threads', '1']);
    session = await signIn(server.url);
  });
  afterAll(async () => {
    await server?.stop();
    dir.cleanup();
  });

  it('refuses what is not a Hearth data folder, with a clear code, and keeps serving', async () => {
    const client = await connect();
    try {
      expect(await client.value<AppInfo>('app.info')).toMatchObject({ dataDir: first, canSwitchDataDir: true });
      const empty = join(dir.path, 'empty');
      mkdirSync(empty);
      const garbage = join(dir.path, 'garbage');
      mkdirSync(garbage);
      writeFileSync(join(garbage, 'hearth.db'), 'not a database at all, just text');
      const cases: Array<[string, string, RegExp]> = [
        ['relative/path', 'BAD_INPUT', /not a full path/],
        [join(dir.path, 'missing'), 'FILE_NOT_FOUND', /no folder/],
        [first, 'BAD_INPUT', /using now/],
        [empty, 'FILE_NOT_FOUND', /no hearth\.db/],
        [garbage, 'DATABASE_CORRUPT', /not a Hearth database/],
      ];
      for (const [dataDir, code, message] of cases) {
        const result = await client.call('app.switchDataDir', { dataDir });
        expect(result, dataDir).toMatchObject({ ok: false, error: { code } });
        expect(!result.ok && result.error.message, dataDir).toMatch(message);
      }
      expect((await client.value<AppInfo>('app.info')).dataDir).toBe(first);
    } finally {
      await client.close();
    }
  });

  it('switches behind the same port and token: the same session reconnects and sees the restored data', async () => {
    const client = await connect();
    const before = await client.value<ThreadSummary[]>('threads.list');
    expect(before.map((t) => t.title)).toEqual(['A chat in the first folder']);
    expect(await client.call('app.switchDataDir', { dataDir: restored })).toEqual({ ok: true, value: null });
    // The old connection is closed by the switch.
    await expect.poll(() => client.ws.readyState, { timeout: 20_000 }).toBe(client.ws.CLOSED);

    let again: WireClient | null = null;
    await expect
      .poll(
        async () => {
          again = await connect().catch(() => null);
          return again !== null;
        },
        { timeout: 30_000, interval: 200 },
      )
      .toBe(true);
    try {
      expect((await again!.value<AppInfo>('app.info')).dataDir).toBe(restored);
      expect((await again!.value<ThreadSummary[]>('threads.list')).map((t) => t.title)).toEqual(['A chat in the restored folder']);
    } finally {
      await again!.close();
    }
    expect(server.stderr()).toContain(`Switching to the data directory ${restored}`);
  }, 60_000);
});
