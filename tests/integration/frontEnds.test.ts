import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInfo, RuntimeState } from '#contract/dto';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { createCore, type Core } from '../../src-main/core/createCore';
import { createDispatcher } from '../../src-main/core/rpc/dispatcher';
import { createHandlers } from '../../src-main/core/rpc/handlers';
import { indexPath } from '../support/libraryCore';
import { assertBuilt, runHearth } from '../support/server';
import { tempDir } from '../support/tempDir';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../support/testCore';
import { testModelPath } from '../support/testModels';

/** A real core on a data directory, CPU only, no folder watchers. */
function openCore(dataDir: string): Core {
  return createCore(
    { dataDir, host: 'server', version: 'test', gpu: 'off', threads: 1, catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH, library: { watch: false } },
    { logger: createConsoleLogger('error') },
  );
}

/** The models each data directory starts with, by id. */
interface Seeded {
  /** The embedding default the documents were indexed with. */
  stories: string;
  /** The model that becomes the new embedding default. */
  tiny: string;
  /** A copy Hearth manages (its file is deleted on removal): the one loaded, then removed. */
  spare: string;
  sparePath: string;
}

/**
 * The same starting point for each front end: stories260K is the chat and embedding default
 * and a small folder is indexed with it; the tiny random model is in the library too, and a
 * copy of stories260K in Hearth's models folder.
 */
async function seed(dataDir: string, docs: string): Promise<Seeded> {
  const core = openCore(dataDir);
  try {
    const stories = await core.models.add(await testModelPath('stories260K'));
    core.models.setDefault('chat', stories.id);
    core.models.setDefault('embedding', stories.id);
    await indexPath(core, docs);
    const tiny = await core.models.add(await testModelPath('tinyRandom'));
    const spare = await core.models.import(await testModelPath('stories260K'), true);
    return { stories: stories.id, tiny: tiny.id, spare: spare.id, sparePath: spare.path };
  } finally {
    await core.dispose();
  }
}

/** What a user can see of a data directory, free of ids and times, to compare two of them. */
async function outcome(dataDir: string) {
  const core = openCore(dataDir);
  try {
    const models = (await core.models.list())
      .map((m) => ({ name: m.name, managed: m.managed, present: m.present, defaultFor: [...m.defaultFor].sort() }))
      .sort((a, b) => `${a.name}${a.managed}`.localeCompare(`${b.name}${b.managed}`));
    const status = await core.library.status();
    return {
      models,
      modelFiles: readdirSync(join(dataDir, 'models')).sort(),
      index: { active: status.active?.modelName ?? null, target: status.target?.modelName ?? null, documents: status.documents, chunks: status.chunks },
      indexJobs: core.jobs.list().filter((j) => j.kind === 'library.index').map((j) => j.status),
    };
  } finally {
    await core.dispose();
  }
}

/**
 * Behaviour lives in the services, not in a front end: the same scenario run through the
 * command line (the built app) and through the contract (the dispatcher the UI, IPC and the
 * WebSocket server use) ends in the same state.
 */
describe('the CLI and the contract end in the same state', () => {
  const viaCli = tempDir('hearth-front-cli-');
  const viaContract = tempDir('hearth-front-contract-');
  const docs = tempDir('hearth-front-docs-');
  let cliModels: Seeded;
  let contractModels: Seeded;

  const hearth = (args: string[]) => runHearth([...args, '--data-dir', viaCli.path, '--gpu', 'off', '--threads', '1']);

  beforeAll(async () => {
    assertBuilt();
    mkdirSync(join(docs.path, 'notes'));
    writeFileSync(join(docs.path, 'notes', 'hearth.md'), '# The hearth\n\nA fire in the middle of the house kept everyone warm through the winter.\n');
    writeFileSync(join(docs.path, 'notes', 'garden.txt'), 'Tomatoes need sun, water and patience. The garden gives beans in July.\n');
    cliModels = await seed(viaCli.path, docs.path);
    contractModels = await seed(viaContract.path, docs.path);
  }, 180_000);

  afterAll(() => {
    viaCli.cleanup();
    viaContract.cleanup();
    docs.cleanup();
  });

  it('through the CLI: a new embedding default re-embeds the documents; removing a model deletes its copy', async () => {
    const setDefault = await hearth(['models', 'default', cliModels.tiny, '--for', 'embedding', '--json']);
    expect(setDefault.code, setDefault.stderr).toBe(0);
    // The app starts a re-embed job for this; the command waits for it to finish.
    expect(JSON.parse(setDefault.stdout) as JobInfo).toMatchObject({ kind: 'library.index', status: 'completed' });

    // A CLI process holds no model across commands, so nothing is loaded here to unload.
    const remove = await hearth(['models', 'rm', cliModels.spare, '--json']);
    expect(remove.code, remove.stderr).toBe(0);
    expect(existsSync(cliModels.sparePath)).toBe(false);
  }, 180_000);

  it('through the contract: the same, and a loaded model is unloaded before it is removed', async () => {
    const core = openCore(viaContract.path);
    try {
      const dispatch = createDispatcher(createHandlers(core), createConsoleLogger('silent'));
      expect(await dispatch('models.setDefault', { modelId: contractModels.tiny, purpose: 'embedding' })).toEqual({ ok: true, value: null });
      const job = core.library.currentJob();
      expect(job).toMatchObject({ kind: 'library.index' });
      expect((await core.jobs.wait(job!.id)).status).toBe('completed');

      expect(await dispatch('runtime.load', { modelId: contractModels.spare })).toMatchObject({ ok: true, value: { modelId: contractModels.spare } });
      // When the runtime goes idle, the model must still be in the library and its file on disk.
      const atUnload: { listed: boolean; onDisk: boolean }[] = [];
      const off = core.events.on('runtime.state', (state: RuntimeState) => {
        if (state.state !== 'idle') return;
        atUnload.push({ listed: hasModel(core, contractModels.spare), onDisk: existsSync(contractModels.sparePath) });
      });
      expect(await dispatch('models.remove', { modelId: contractModels.spare })).toEqual({ ok: true, value: null });
      off();
      expect(atUnload).toEqual([{ listed: true, onDisk: true }]);
      expect(core.runtime.loaded).toBeNull();
      expect(hasModel(core, contractModels.spare)).toBe(false);
      expect(existsSync(contractModels.sparePath)).toBe(false);
    } finally {
      await core.dispose();
    }
  }, 180_000);

  it('both data directories end the same: same models and defaults, documents embedded with the new model', async () => {
    const cli = await outcome(viaCli.path);
    const contract = await outcome(viaContract.path);
    expect(cli).toEqual(contract);
    expect(cli.index).toMatchObject({ active: cli.models.find((m) => m.defaultFor.includes('embedding'))?.name, documents: { indexed: 2 } });
    expect(cli.models.filter((m) => m.managed)).toEqual([]);
    expect(cli.indexJobs).toEqual(['completed', 'completed']);
  }, 120_000);
});

function hasModel(core: Core, id: string): boolean {
  try {
    core.models.get(id);
    return true;
  } catch {
    return false;
  }
}
