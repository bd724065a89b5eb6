import { existsSync } from 'node:fs';
import { copyFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RuntimeState } from '#contract/dto';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import type { Core } from '../../src-main/core/createCore';
import { LlamaRuntime } from '../../src-main/core/inference/llamaRuntime';
import { createTestCore } from '../support/testCore';
import { testModelPath } from '../support/testModels';

describe('model library and lifecycle', () => {
  let core: Core;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  const modelsDir = () => join(dataDir, 'models');

  beforeEach(() => {
    ({ core, dataDir, cleanup } = createTestCore());
  });
  afterEach(() => cleanup());

  it('reads what a model is from its metadata', async () => {
    const stories = await core.models.add(await testModelPath('stories260K'));
    // The first chat model added becomes the default chat model; later ones do not.
    expect(stories).toMatchObject({ kind: 'generative', quantization: 'F32', architecture: 'llama', hasChatTemplate: false, managed: false, gpuLayers: null, defaultFor: ['chat'] });
    expect(stories.parameters).toBeGreaterThan(200_000);
    expect(stories.parameters).toBeLessThan(400_000);
    expect(stories.contextLength).toBe(2048);
    const random = await core.models.add(await testModelPath('tinyRandom'));
    expect(random).toMatchObject({ kind: 'generative', contextLength: 4096, defaultFor: [] });
  });

  it('imports by copy into the models folder (deleting removes the copy) or by reference (the file stays)', async () => {
    const source = await testModelPath('stories260K');
    const copied = await core.models.import(source, true);
    expect(copied.managed).toBe(true);
    expect(copied.path).toBe(join(modelsDir(), 'stories260K.gguf'));
    expect(existsSync(copied.path)).toBe(true);
    const second = await core.models.import(source, true);
    expect(second.path).toBe(join(modelsDir(), 'stories260K (2).gguf'));

    await core.models.remove(copied.id);
    expect(existsSync(copied.path)).toBe(false);
    expect(existsSync(source)).toBe(true);

    const referenced = await core.models.import(source, false);
    expect(referenced).toMatchObject({ managed: false, path: source });
    await core.models.remove(referenced.id);
    expect(existsSync(source)).toBe(true);
    expect((await core.models.list()).map((m) => m.path)).toEqual([second.path]);
  });

  it('refuses to import a broken file and leaves nothing behind', async () => {
    const bad = join(dataDir, 'broken.gguf');
    await writeFile(bad, 'not a model at all');
    await expect(core.models.import(bad, true)).rejects.toMatchObject({ code: 'CORRUPT_FILE' });
    expect(await readdir(modelsDir())).toEqual([]);
    expect(await core.models.list()).toEqual([]);
  });

  it('a file dropped into the models folder is listed, and managed', async () => {
    await copyFile(await testModelPath('stories260K'), join(modelsDir(), 'dropped.gguf'));
    const [listed] = await core.models.list();
    expect(listed).toMatchObject({ path: join(modelsDir(), 'dropped.gguf'), managed: true, present: true });
  });

  it('keeps defaults per purpose, refuses a model of the wrong kind, and forgets them with the model', async () => {
    const model = await core.models.add(await testModelPath('stories260K'));
    core.models.setDefault('chat', model.id);
    expect(core.models.info(model.id).defaultFor).toEqual(['chat']);
    // A generative model may embed (pooled hidden states), but it has no ranking head.
    expect(() => core.models.setDefault('rerank', model.id)).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    core.models.setDefault('embedding', model.id);
    expect(core.models.info(model.id).defaultFor).toEqual(['chat', 'embedding']);
    core.models.setDefault('embedding', null);
    core.models.setDefault('chat', null);
    expect(core.models.info(model.id).defaultFor).toEqual([]);
    core.models.setDefault('chat', model.id);
    await core.models.remove(model.id);
    expect(core.models.defaultFor('chat')).toBeUndefined();
  });

  it('loads the default chat model on first use, once, even for two chats at the same time', async () => {
    const model = await core.models.add(await testModelPath('stories260K'));
    core.models.setDefault('chat', model.id);
    core.settings.update({ maxReplyTokens: 8 });
    const states: RuntimeState[] = [];
    core.events.on('runtime.state', (s) => states.push(s));
    const [a, b] = [core.chat.createThread(), core.chat.createThread()];
    await Promise.all([core.chat.send(a.id, 'Hi'), core.chat.send(b.id, 'Hello')]);
    await Promise.all([core.chat.idle(a.id), core.chat.idle(b.id)]);
    expect(states.filter((s) => s.state === 'loading' && s.progress === 0)).toHaveLength(1);
    expect(core.runtime.state()).toMatchObject({ state: 'ready', model: { modelId: model.id } });
    expect(core.chat.getThread(a.id).messages[1]!.status).not.toBe('error');
    expect(core.chat.getThread(b.id).messages[1]!.status).not.toBe('error');
  });

  it('without a default, a message to an unloaded model is still MODEL_NOT_LOADED', async () => {
    const thread = core.chat.createThread();
    await expect(core.chat.send(thread.id, 'Hi')).rejects.toMatchObject({ code: 'MODEL_NOT_LOADED' });
  });

  it('swapping models frees the first before the second loads; per-model GPU layers are applied', async () => {
    const first = await core.models.add(await testModelPath('stories260K'));
    const second = await core.models.add(await testModelPath('tinyRandom'));
    await core.runtime.load(core.models.get(first.id), { contextSize: null });
    const firstSession = core.runtime.loaded!;
    expect(core.models.setGpuLayers(second.id, 0).gpuLayers).toBe(0);
    const loaded = await core.runtime.load(core.models.get(second.id), { contextSize: null });
    expect(firstSession.model.disposed).toBe(true);
    expect(loaded).toMatchObject({ modelId: second.id, gpuLayers: 0, gpuNote: null });
  });
});

describe('idle unload', () => {
  it('unloads a model left unused for the configured time, and never while it is generating', async () => {
    const states: RuntimeState[] = [];
    let idleMs = 0;
    const runtime = new LlamaRuntime('off', 1, createConsoleLogger('silent'), (s) => states.push(s), () => idleMs, 25);
    try {
      const path = await testModelPath('stories260K');
      const row = {
        id: 'mdl_idle', path, name: 'stories', sizeBytes: 0, architecture: 'llama', contextLength: 2048, hasChatTemplate: false,
        kind: 'generative' as const, parameters: null, quantization: null, gpuLayers: null, managed: false, defaultFor: [], addedAt: 0,
      };
      await runtime.load(row, { contextSize: 256 });
      await sleep(120);
      expect(runtime.state().state).toBe('ready'); // 0 = never unload
      idleMs = 150;
      runtime.markGenerating(true);
      await sleep(300);
      expect(runtime.state().state).toBe('ready'); // busy: kept
      runtime.markGenerating(false);
      await sleep(400);
      expect(runtime.state().state).toBe('idle');
      expect(runtime.loaded).toBeNull();
    } finally {
      await runtime.dispose();
    }
  });
});
