import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalApiHost } from '../../src-main/cli/api/localApiHost';
import { LanHosts } from '../../src-main/cli/api/lanAccess';
import type { Core } from '../../src-main/core/createCore';
import { createTestCore } from '../support/testCore';

/** The desktop app's local API follows its settings: off by default, on, LAN only with a token, off again. */
describe('LocalApiHost (the desktop app’s local API)', () => {
  let core: Core;
  let cleanup: () => Promise<void>;
  let host: LocalApiHost;
  beforeEach(() => {
    ({ core, cleanup } = createTestCore());
    host = new LocalApiHost(core, 0);
  });
  afterEach(async () => {
    await host.close();
    await cleanup();
  });

  const mcpStatus = (address: string, port: number) => fetch(`http://${address}:${port}/mcp`, { method: 'POST', body: '{}' }).then((r) => r.status);

  it('serves nothing by default, /mcp on 127.0.0.1 once on, other devices only with a token and the LAN setting', async () => {
    await host.apply();
    expect(host.runningPort).toBeNull();

    core.settings.update({ localApi: true, localApiLan: true });
    await host.apply();
    const port = host.runningPort!;
    expect(port).toBeGreaterThan(0);
    expect(await mcpStatus('127.0.0.1', port)).toBe(401);
    const address = LanHosts.addresses()[0];
    if (!address) throw new Error('This test needs a non-loopback IPv4 address on this machine (ip addr shows none).');
    // The LAN setting without any API token: still loopback only.
    await expect(mcpStatus(address, port)).rejects.toThrow();

    core.apiTokens.create({ name: 'phone', scopes: ['documents:*'] });
    await host.apply();
    expect(await mcpStatus(address, host.runningPort!)).toBe(401);

    core.settings.update({ localApi: false });
    await host.apply();
    expect(host.runningPort).toBeNull();
    await expect(mcpStatus('127.0.0.1', port)).rejects.toThrow();
  });
});
