import { setTimeout as sleep } from 'node:timers/promises';
import type { Core, CoreConfig } from '../../src-main/core/createCore';
import type { Collection, JobInfo, ModelInfo, Source } from '#contract/dto';
import { createTestCore } from './testCore';
import { testModelPath } from './testModels';

/** A test core whose default chat and embedding model is the real stories260K GGUF. */
export async function createLibraryCore(overrides: Partial<CoreConfig> = {}): Promise<{
  core: Core;
  dataDir: string;
  model: ModelInfo;
  cleanup: () => Promise<void>;
}> {
  const test = createTestCore(overrides);
  const model = await test.core.models.add(await testModelPath('stories260K'));
  test.core.models.setDefault('embedding', model.id);
  test.core.models.setDefault('chat', model.id);
  return { ...test, model };
}

/** Adds a folder or file to a collection (created if needed) and waits for indexing to finish. */
export async function indexPath(
  core: Core,
  path: string,
  collectionName = 'Docs',
): Promise<{ collection: Collection; source: Source; job: JobInfo }> {
  const collection = core.library.ensureCollection(collectionName);
  const { source, job } = core.library.addSource(collection.id, path);
  const done = await core.jobs.wait(job.id);
  if (done.status !== 'completed') throw new Error(`indexing ended ${done.status}: ${done.error?.message ?? ''}`);
  return { collection, source: core.library.source(source.id), job: done };
}

export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
