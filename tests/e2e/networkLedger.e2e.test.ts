import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { egressFetch } from '../../src-main/core/common/egress';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { NetworkLedger } from '../../src-main/core/network/networkLedger';
import { startE2eApp } from '../support/e2eApp';
import { startHubServer, type HubServer } from '../support/hubServer';
import type { ServeRun } from '../support/server';
import type { TempDir } from '../support/tempDir';
import { testModelPath } from '../support/testModels';

const REPO = 'test-org/ledger-stories-GGUF';

/**
 * Settings' network ledger in real Chromium against `hearth serve`: it says nothing has left
 * the machine while every request went to 127.0.0.1, lists a hub search as a local request,
 * and says so when a request went to another machine.
 */
describe('network ledger in Settings (e2e)', () => {
  let hub: HubServer;
  let server: ServeRun;
  let page: Page;
  let data: TempDir;
  const errors: string[] = [];

  beforeAll(async () => {
    hub = await startHubServer({ [REPO]: { files: { 'stories-F32.gguf': await testModelPath('stories260K') } } });
    const app = await startE2eApp({
      prefix: 'hearth-e2e-ledger-',
      viewport: { width: 1280, height: 860 },
      errors,
      seed: (core) => core.settings.update({ hubEndpoint: hub.url }),
    });
    ({ server, page, data } = app);
    return app.close;
  });

  afterAll(async () => {
    await hub?.close();
  });

  const verdict = () => page.getByTestId('network-verdict').innerText();

  it('says nothing has left this machine, and lists a hub search on 127.0.0.1 as local', async () => {
    await page.goto(server.url);
    // The ledger lives in Settings.
    await page.getByTestId('nav-settings').click();
    await expect.poll(verdict, { timeout: 20_000 }).toMatch(/Nothing has left this machine since/);
    expect(await page.getByTestId('network-empty').count()).toBe(1);

    await page.getByTestId('nav-models').click();
    await page.getByTestId('hub-search-input').fill('ledger');
    await page.getByTestId('hub-search-submit').click();
    await expect.poll(() => page.getByTestId('hub-result').count(), { timeout: 20_000 }).toBe(1);
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('network-refresh').click();
    // The search, then whatever the Discover tab asked the hub for next (a file list): all to the local hub.
    const rows = page.getByTestId('network-request');
    await expect.poll(() => rows.filter({ hasText: 'Model search (hub)' }).count(), { timeout: 10_000 }).toBeGreaterThan(0);
    for (const text of await rows.allInnerTexts()) {
      expect(text).toContain(new URL(hub.url).host);
      expect(text).toContain('this machine');
    }
    expect(await verdict()).toMatch(/Nothing has left this machine/);
  });

  it('says how much went to other machines once a request did', async () => {
    // Another process of the same data directory (a CLI command, say) tries a host that is not this machine.
    const ledger = NetworkLedger.open({ file: join(data.path, 'network', 'ledger.db'), logger: createConsoleLogger('error') });
    try {
      await egressFetch('hub-api', 'http://10.255.255.1/', { signal: AbortSignal.timeout(300) })
        .then((response) => response.arrayBuffer())
        .catch(() => undefined);
      await expect.poll(() => ledger.view({ remoteOnly: true }).requests.length, { timeout: 10_000 }).toBe(1);
    } finally {
      ledger.close();
    }
    await page.getByTestId('network-refresh').click();
    await expect.poll(verdict, { timeout: 10_000 }).toMatch(/1 request went to other machines since .*: .* sent, .* received/);
    const remote = page.getByTestId('network-request').filter({ hasText: '10.255.255.1' });
    expect(await remote.count()).toBe(1);
    expect(await remote.innerText()).not.toContain('this machine');
    expect(errors).toEqual([]);
  });
});
