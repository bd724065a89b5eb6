import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../src-main/core/createCore';
import { startHubServer, type HubServer } from '../support/hubServer';
import { createTestCore } from '../support/testCore';
import { testModelPath } from '../support/testModels';

/** Pulling a catalog entry goes through the hub listing: its size and sha256 verify the file. */
describe('pulling from the catalog', () => {
  let core: Core;
  let cleanup: () => Promise<void>;
  let hub: HubServer;

  beforeAll(async () => {
    ({ core, cleanup } = createTestCore());
    const entry = core.catalog.list().find((e) => e.purpose === 'chat')!;
    const file = entry.files.find((f) => f.quantization === entry.recommendedQuantization)!;
    const stories = readFileSync(await testModelPath('stories260K'));
    // The hub holds the recommended file (with stories260K's bytes) and nothing else.
    hub = await startHubServer({ [entry.repo]: { files: { [file.file]: stories } } });
    core.settings.update({ hubEndpoint: hub.url });
  });
  afterAll(async () => {
    await cleanup();
    await hub.close();
  });

  it('downloads the recommended quantization, verified against the hub’s sha256', async () => {
    const entry = core.catalog.list().find((e) => e.purpose === 'chat')!;
    const job = await core.downloads.pull({ kind: 'catalog', id: entry.id });
    const done = await core.jobs.wait(job.id);
    expect(done.status, JSON.stringify(done.error)).toBe('completed');
    const models = await core.models.list();
    expect(models).toHaveLength(1);
    expect(models[0]).toMatchObject({ managed: true, present: true });
  });

  it('a catalog entry whose file the hub does not have is NOT_FOUND, and nothing starts', async () => {
    const entry = core.catalog.list().find((e) => e.purpose === 'chat')!;
    const other = entry.files.find((f) => f.quantization !== entry.recommendedQuantization)!;
    const before = core.jobs.list().length;
    await expect(core.downloads.pull({ kind: 'catalog', id: entry.id, quantization: other.quantization })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('catalog entry may be out of date'),
    });
    expect(core.jobs.list()).toHaveLength(before);
  });

  it('an unknown catalog id or quantization gets a clear code', async () => {
    await expect(core.downloads.pull({ kind: 'catalog', id: 'no-such-model' })).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    const entry = core.catalog.list()[0]!;
    await expect(core.downloads.pull({ kind: 'catalog', id: entry.id, quantization: 'Q9_Z' })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});
