import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILD_OUTPUTS, staleReason } from '../../scripts/buildFreshness.mjs';
import { browserCommand } from '../../src-main/cli/browserOpener';
import { LocalAccess, sessionScope } from '../../src-main/cli/localAccess';
import { FileSecretStore } from '../../src-main/core/ports/secretStore';
import { chooseServerIdentity, SERVER_IDENTITY_SECRET, writeServerIdentity } from '../../src-main/cli/serverIdentity';
import { tempDir } from '../support/tempDir';

describe('the pieces of a stable server', () => {
  const dir = tempDir('hearth-serve-helpers-');
  afterAll(() => dir.cleanup());

  it('derives the session path from the token: stable with it, different for another, revealing nothing of it', () => {
    const token = 'A'.repeat(43);
    expect(sessionScope(token)).toBe(sessionScope(token));
    expect(sessionScope(token)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(sessionScope(`${'A'.repeat(42)}B`)).not.toBe(sessionScope(token));
    expect(sessionScope(token)).not.toContain(token.slice(0, 8));
    const access = new LocalAccess(token, 4000, sessionScope(token));
    expect(access.route(`/s/${sessionScope(token)}/x`)).toEqual({ path: '/x', scoped: true });
  });

  it('remembers the port and token; --port and --new-token replace them; a damaged value is ignored', async () => {
    const secrets = new FileSecretStore(join(dir.path, 'data'));
    const fresh = await chooseServerIdentity(secrets, { renewToken: false });
    expect(fresh).toMatchObject({ port: 0, portRemembered: false, problem: null });
    await writeServerIdentity(secrets, { port: 43_210, token: fresh.token });
    expect(await chooseServerIdentity(secrets, { renewToken: false })).toEqual({ port: 43_210, token: fresh.token, portRemembered: true, problem: null });
    const renewed = await chooseServerIdentity(secrets, { renewToken: true });
    expect(renewed.port).toBe(43_210);
    expect(renewed.token).not.toBe(fresh.token);
    expect(await chooseServerIdentity(secrets, { port: 8080, renewToken: false })).toMatchObject({ port: 8080, token: fresh.token, portRemembered: false });
    await secrets.set(SERVER_IDENTITY_SECRET, '{"port":70000,"token":"short"}');
    expect(await chooseServerIdentity(secrets, { renewToken: false })).toMatchObject({ port: 0, portRemembered: false, problem: null });
  });

  it('still starts when the secrets file is damaged, and says why', async () => {
    const dataDir = join(dir.path, 'damaged');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'secrets.json'), 'not json');
    writeFileSync(join(dataDir, 'secret.key'), Buffer.alloc(32));
    const chosen = await chooseServerIdentity(new FileSecretStore(dataDir), { renewToken: false });
    expect(chosen.problem).toMatch(/could not be read/);
    expect(chosen.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('opens the browser with $BROWSER (first of a list), else the platform opener, the URL as its own argument', () => {
    const url = 'http://127.0.0.1:8080/?code=abc&x=1';
    expect(browserCommand(url, { BROWSER: '/opt/firefox:/usr/bin/chromium' }, 'linux')).toEqual({ command: '/opt/firefox', args: [url] });
    expect(browserCommand(url, {}, 'linux')).toEqual({ command: 'xdg-open', args: [url] });
    expect(browserCommand(url, { BROWSER: '' }, 'darwin')).toEqual({ command: 'open', args: [url] });
    expect(browserCommand(url, {}, 'win32')).toEqual({ command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] });
  });

  it('npm start rebuilds only when an input is newer than the build', () => {
    const root = join(dir.path, 'repo');
    mkdirSync(join(root, 'src-main', 'core'), { recursive: true });
    writeFileSync(join(root, 'src-main', 'core', 'a.ts'), '');
    writeFileSync(join(root, 'package.json'), '{}');
    expect(staleReason(root)).toBe('out/main/cli.js is missing');
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(root, 'src-main', 'core', 'a.ts'), old, old);
    utimesSync(join(root, 'package.json'), old, old);
    for (const output of BUILD_OUTPUTS) {
      mkdirSync(join(root, output, '..'), { recursive: true });
      writeFileSync(join(root, output), '');
    }
    expect(staleReason(root)).toBeNull();
    writeFileSync(join(root, 'src-main', 'core', 'a.ts'), 'changed');
    utimesSync(join(root, 'src-main', 'core', 'a.ts'), new Date(Date.now() + 1000), new Date(Date.now() + 1000));
    expect(staleReason(root)).toBe('src-main/core/a.ts changed since the last build');
  });
});
