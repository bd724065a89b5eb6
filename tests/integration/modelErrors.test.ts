import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../src-main/core/createCore';
import { HearthError } from '../../src-main/core/common/hearthError';
import { createHandlers } from '../../src-main/core/rpc/handlers';
import { createDispatcher, type Dispatch } from '../../src-main/core/rpc/dispatcher';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { hugeModelBytes } from '../support/ggufWriter';
import { createTestCore } from '../support/testCore';
import { testModelPath } from '../support/testModels';

/** Every bad model file gives a clear code, registers nothing, and leaves the app working. */
describe('bad model files', () => {
  let core: Core;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  let dispatch: Dispatch;
  let dir: string;

  beforeAll(async () => {
    ({ core, dataDir, cleanup } = createTestCore());
    dispatch = createDispatcher(createHandlers(core), createConsoleLogger('silent'));
    dir = join(dataDir, 'bad');
    await mkdir(dir);
  });
  afterAll(() => cleanup());

  const codeOf = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      expect(error).toBeInstanceOf(HearthError);
      return { code: (error as HearthError).code, message: (error as HearthError).message };
    }
    throw new Error('expected an error');
  };

  const modelRows = () => (core.db.prepare('SELECT COUNT(*) AS n FROM models').get() as { n: number }).n;

  it('a missing file is FILE_NOT_FOUND', async () => {
    const result = await codeOf(core.models.add(join(dir, 'nope.gguf')));
    expect(result.code).toBe('FILE_NOT_FOUND');
    expect(result.message).toContain('nope.gguf');
  });

  it('an unreadable path (a folder named like a model) is FILE_UNREADABLE', async () => {
    await mkdir(join(dir, 'folder.gguf'));
    expect((await codeOf(core.models.add(join(dir, 'folder.gguf')))).code).toBe('FILE_UNREADABLE');
  });

  it('a file that is not GGUF is CORRUPT_FILE', async () => {
    await writeFile(join(dir, 'notes.gguf'), '<html>Not a model</html>');
    const result = await codeOf(core.models.add(join(dir, 'notes.gguf')));
    expect(result.code).toBe('CORRUPT_FILE');
    expect(result.message).toMatch(/not a GGUF/);
  });

  it('an empty file is CORRUPT_FILE', async () => {
    await writeFile(join(dir, 'empty.gguf'), '');
    expect((await codeOf(core.models.add(join(dir, 'empty.gguf')))).code).toBe('CORRUPT_FILE');
  });

  it('a GGUF whose header is cut short is CORRUPT_FILE', async () => {
    const bytes = await readFile(await testModelPath('stories260K'));
    await writeFile(join(dir, 'header-cut.gguf'), bytes.subarray(0, 200));
    const result = await codeOf(core.models.add(join(dir, 'header-cut.gguf')));
    expect(result.code).toBe('CORRUPT_FILE');
  });

  it('a GGUF truncated in its weights is CORRUPT_FILE, caught before llama.cpp maps it', async () => {
    const bytes = await readFile(await testModelPath('stories260K'));
    await writeFile(join(dir, 'truncated.gguf'), bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const result = await codeOf(core.models.add(join(dir, 'truncated.gguf')));
    expect(result.code).toBe('CORRUPT_FILE');
    expect(result.message).toMatch(/truncated/);
  });

  it('a model larger than this machine’s memory is INSUFFICIENT_MEMORY', async () => {
    // Declare twice this machine's memory in F32 weights.
    const elements = (BigInt(totalmem()) * 2n) / 4n / 1_000_000n * 1_000_000n;
    await writeFile(join(dir, 'huge.gguf'), hugeModelBytes(elements));
    const result = await codeOf(core.models.add(join(dir, 'huge.gguf')));
    expect(result.code).toBe('INSUFFICIENT_MEMORY');
    expect(result.message).toMatch(/GiB/);
  });

  it('a file that breaks after it was added fails to load with a code, and nothing stays loaded', async () => {
    const good = join(dir, 'will-break.gguf');
    await copyFile(await testModelPath('stories260K'), good);
    const added = await core.models.add(good);
    const bytes = await readFile(good);
    await writeFile(good, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const loaded = await dispatch('runtime.load', { modelId: added.id });
    expect(loaded).toEqual({ ok: false, error: { code: 'CORRUPT_FILE', message: expect.stringMatching(/truncated/) } });
    expect(core.runtime.state().state).toBe('error');
    expect(core.runtime.loaded).toBeNull();
  });

  it('after all that, no broken model was registered and a good model still loads and answers', async () => {
    expect(modelRows()).toBe(1); // only will-break.gguf, which was whole when added
    const model = await core.models.add(await testModelPath('stories260K'));
    const loaded = await dispatch('runtime.load', { modelId: model.id });
    expect(loaded.ok).toBe(true);
    expect(core.runtime.state().state).toBe('ready');
  });

  it('an unknown model id is MODEL_NOT_FOUND', async () => {
    expect(await dispatch('runtime.load', { modelId: 'mdl_missing' })).toMatchObject({
      ok: false,
      error: { code: 'MODEL_NOT_FOUND' },
    });
  });

  it('the list reports a registered file that has since disappeared as not present', async () => {
    const path = join(dir, 'vanishing.gguf');
    await copyFile(await testModelPath('stories260K'), path);
    const added = await core.models.add(path);
    const { rm } = await import('node:fs/promises');
    await rm(path);
    const listed = (await core.models.list()).find((m) => m.id === added.id);
    expect(listed?.present).toBe(false);
    expect((await codeOf(core.runtime.load(core.models.get(added.id), { contextSize: null }))).code).toBe('FILE_NOT_FOUND');
  });
});
