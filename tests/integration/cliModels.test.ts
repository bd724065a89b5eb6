import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { createCore } from '../../src-main/core/createCore';
import { startHubServer, type HubServer } from '../support/hubServer';
import { assertBuilt, runHearth } from '../support/server';
import { tempDir } from '../support/tempDir';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../support/testCore';
import { testModelPath } from '../support/testModels';

const REPO = 'test-org/tiny-stories-GGUF';
const FILE = 'tiny-stories-F32.gguf';

/** `hearth models search|files|fit|pull|info|default` against a hub-shaped server on 127.0.0.1. */
describe('hearth models: the hub, fit and pull from the command line', () => {
  const data = tempDir('hearth-cli-models-');
  let hub: HubServer;

  const run = (args: string[]) => runHearth([...args, '--data-dir', data.path, '--gpu', 'off']);

  beforeAll(async () => {
    assertBuilt();
    const stories = readFileSync(await testModelPath('stories260K'));
    hub = await startHubServer({ [REPO]: { files: { [FILE]: stories }, downloads: 5 }, 'gated-org/secret-GGUF': { files: { 'x-Q4_K_M.gguf': stories }, gated: true } });
    const seed = createCore({ dataDir: data.path, host: 'server', version: 'test', gpu: 'off', catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH }, { logger: createConsoleLogger('error') });
    seed.settings.update({ hubEndpoint: hub.url });
    await seed.dispose();
  });
  afterAll(async () => {
    await hub?.close();
    data.cleanup();
  });

  it('searches the hub and lists a repository’s files with their fit', async () => {
    const search = await run(['models', 'search', 'stories', '--json']);
    expect(search.code, search.stderr).toBe(0);
    expect(JSON.parse(search.stdout)).toEqual([expect.objectContaining({ repo: REPO, downloads: 5 })]);
    const files = await run(['models', 'files', REPO]);
    expect(files.code, files.stderr).toBe(0);
    expect(files.stdout).toMatch(new RegExp(`${FILE}\\s+F32\\s+1\\.2 MB\\s+CPU only\\s+← recommended`));
  });

  it('says how a hub file would run here before downloading it', async () => {
    const fit = await run(['models', 'fit', `${REPO}/${FILE}`, '--json']);
    expect(fit.code, fit.stderr).toBe(0);
    expect(JSON.parse(fit.stdout)).toMatchObject({ verdict: 'cpu', label: 'CPU only', contextSize: 2048 });
  });

  it('pulls a hub file with a progress bar, verifies it, and adds it to the library', async () => {
    hub.fault(`/${REPO}/resolve/main/${FILE}`, { kind: 'slow', bytesPerSecond: 800_000 });
    const pull = await run(['models', 'pull', `${REPO}/${FILE}`]);
    hub.fault(`/${REPO}/resolve/main/${FILE}`, null);
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stderr).toMatch(/\[#+-*\]\s+\d+% .* of 1\.2 MB/);
    const ls = JSON.parse((await run(['models', 'ls', '--json'])).stdout) as { id: string; path: string; managed: boolean }[];
    expect(ls).toEqual([expect.objectContaining({ path: join(data.path, 'models', FILE), managed: true })]);
    const info = await run(['models', 'info', ls[0]!.id]);
    expect(info.stdout).toMatch(/quantization\s+F32/);
    expect(info.stdout).toMatch(/fit\s+CPU only/);
    const def = await run(['models', 'default', ls[0]!.id]);
    expect(def.code, def.stderr).toBe(0);
    expect(JSON.parse((await run(['models', 'ls', '--json'])).stdout)[0].defaultFor).toEqual(['chat']);
  });

  it('reports gated repositories, missing files and unknown catalog ids with their codes', async () => {
    const gated = await run(['models', 'files', 'gated-org/secret-GGUF']);
    expect(gated.code).toBe(1);
    expect(gated.stderr).toMatch(/^error MODEL_GATED: .*token/im);
    const missing = await run(['models', 'pull', `${REPO}/nope.gguf`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error NOT_FOUND: /m);
    const unknown = await run(['models', 'pull', 'no-such-catalog-entry']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error MODEL_NOT_FOUND: /m);
  });

  it('checks a pull source with the contract schema the API uses', async () => {
    const badSha = await run(['models', 'pull', 'http://127.0.0.1:9/model.gguf', '--sha256', 'not-hex']);
    expect(badSha.code, badSha.stderr).toBe(2);
    expect(badSha.stderr).toMatch(/^hearth: SOURCE: .*sha256/m);
    const longUrl = await run(['models', 'pull', `http://127.0.0.1:9/${'a'.repeat(5000)}.gguf`]);
    expect(longUrl.code, longUrl.stderr).toBe(2);
  });

  it('lists the curated catalog', async () => {
    const catalog = await run(['models', 'catalog', '--json']);
    expect(catalog.code, catalog.stderr).toBe(0);
    const entries = JSON.parse(catalog.stdout) as { purpose: string }[];
    expect(entries.some((e) => e.purpose === 'embedding')).toBe(true);
    expect(entries.some((e) => e.purpose === 'rerank')).toBe(true);
  });
});
