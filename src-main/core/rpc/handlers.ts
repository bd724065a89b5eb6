import { MAX_MESSAGE_CHARS, type CallInput, type CallName, type CallOutput } from '#contract/api';
import type { Core } from '../createCore';

export type Handlers = { [N in CallName]: (input: CallInput<N>) => Promise<CallOutput<N>> | CallOutput<N> };

/** The contract's calls, implemented by the core. Inputs arrive already validated. */
export function createHandlers(core: Core): Handlers {
  return {
    'app.info': () => ({
      version: core.config.version,
      dataDir: core.config.dataDir,
      host: core.config.host,
      canPickFiles: core.config.host === 'desktop',
      canSwitchDataDir: core.dataDirSwitch.available,
      limits: { maxMessageChars: MAX_MESSAGE_CHARS },
    }),
    'app.switchDataDir': ({ dataDir }) => {
      core.dataDirSwitch.switchTo(dataDir);
      return null;
    },
    'settings.get': () => core.settings.get(),
    'settings.update': (patch) => core.settings.update(patch),
    'settings.reset': ({ keys }) => core.settings.reset(keys),

    'models.list': () => core.models.list(),
    'models.add': ({ path }) => core.models.add(path),
    'models.remove': async ({ modelId }) => {
      await core.runner.remove(modelId);
      return null;
    },
    'models.pickFile': () => core.dialogs.pickModelFile(),

    'runtime.state': () => core.runner.state(),
    'runtime.load': ({ modelId }) => core.runner.load(modelId),
    'runtime.unload': async () => {
      await core.runner.unload();
      return null;
    },

    'threads.list': () => core.chat.listThreads(),
    'threads.create': ({ title, systemPrompt, reuseEmpty }) => core.chat.createThread(title, systemPrompt, { reuseEmpty }),
    'threads.get': ({ threadId }) => core.chat.getThread(threadId),
    'threads.update': ({ threadId, ...patch }) => core.chat.updateThread(threadId, patch),
    'threads.generation': ({ threadId }) => core.generation.get(threadId),
    'threads.setGeneration': ({ threadId, overrides }) => core.generation.set(threadId, overrides),
    'threads.delete': async ({ threadId }) => {
      await core.chat.deleteThread(threadId);
      return null;
    },

    'threads.search': ({ query, limit }) => core.chatArchive.search(query, limit),
    'threads.export': ({ threadId, format }) => core.chatArchive.export(threadId, format),
    'threads.import': ({ content }) => core.chatArchive.import(content),

    'chat.send': ({ threadId, content }) => core.chat.send(threadId, content),
    'chat.stop': async ({ threadId }) => {
      await core.chat.stop(threadId);
      return null;
    },
    'chat.regenerate': ({ threadId }) => core.chat.regenerate(threadId),
    'chat.edit': ({ threadId, messageId, content }) => core.chat.edit(threadId, messageId, content),
    'chat.chooseVersion': ({ threadId, messageId }) => core.chat.chooseVersion(threadId, messageId),
    'chat.context': ({ threadId }) => core.chat.contextUsage(threadId),
    'receipts.sign': ({ threadId }) => core.receipts.signPending(threadId ?? null),
    'receipts.export': ({ messageId, transcript }) => core.verification.exportBundle(messageId, transcript),
    'receipts.verify': ({ messageId }) => core.verification.verifyMessage(messageId),

    'jobs.list': () => core.jobs.list(),
    'jobs.cancel': ({ jobId }) => {
      core.jobs.cancel(jobId);
      return null;
    },
    'jobs.pause': ({ jobId }) => {
      core.jobs.pause(jobId);
      return null;
    },
    'jobs.resume': ({ jobId }) => {
      core.jobs.resume(jobId);
      return null;
    },

    'catalog.list': () => core.catalog.list(),
    'hub.search': ({ query, limit }) => core.hub.search(query, { limit }),
    'hub.files': ({ repo, revision }) => core.hub.files(repo, { revision }),
    'hub.setToken': async ({ token }) => {
      await core.hub.setToken(token);
      return null;
    },
    'hardware.info': () => core.runner.hardware(),
    'models.fit': ({ source }) => core.runner.fit(source),
    'models.pull': ({ source }) => core.downloads.pull(source),
    'models.import': ({ path, copy }) => core.models.import(path, copy),
    'models.setDefault': ({ modelId, purpose }) => {
      core.models.setDefault(purpose, modelId);
      return null;
    },
    'models.setGpuLayers': ({ modelId, gpuLayers }) => core.models.setGpuLayers(modelId, gpuLayers),

    'threads.setCollections': ({ threadId, collectionIds }) => core.chat.setCollections(threadId, collectionIds),
    'collections.list': () => core.library.collections(),
    'collections.create': ({ name }) => core.library.createCollection(name),
    'collections.rename': ({ collectionId, name }) => core.library.renameCollection(collectionId, name),
    'collections.delete': async ({ collectionId }) => {
      await core.library.deleteCollection(collectionId);
      return null;
    },
    'sources.list': ({ collectionId }) => core.library.sources(collectionId),
    'sources.add': ({ collectionId, path }) => core.library.addSource(collectionId, path),
    'sources.remove': async ({ sourceId }) => {
      await core.library.removeSource(sourceId);
      return null;
    },
    'sources.pick': ({ kind }) => core.dialogs.pickSource(kind),
    'documents.list': (filter) => core.library.documents(filter),
    'documents.chunk': ({ chunkId }) => core.library.chunk(chunkId),
    'documents.open': async ({ docId, page }) => {
      await core.library.openDocument(docId, page ?? null);
      return null;
    },
    'index.status': () => core.library.status(),
    'index.rescan': ({ sourceId }) => core.library.rescan(sourceId),
    'index.rebuild': () => core.library.rebuild(),
    'search.query': (input) => core.library.search(input),

    'vault.status': () => core.vault.status(),
    'vault.create': (input) => core.vault.create(input),
    'vault.import': (input) => core.vault.import(input),
    'vault.unlock': (input) => core.vault.unlock(input),
    'vault.lock': () => core.vault.lock(),
    'vault.revealPhrase': (input) => core.vault.revealPhrase(input),
    'vault.snapshot': (options) => core.vault.startSnapshot(options),
    'vault.snapshots': () => core.vault.snapshots(),
    'vault.publish': (input) => core.vault.startPublish(input),
    'vault.targets': () => core.vault.targets(),
    'vault.addTarget': (input) => core.vault.addTarget(input),
    'vault.removeTarget': (input) => core.vault.removeTarget(input),
    'vault.setSchedule': (patch) => core.vault.setSchedule(patch),
    'vault.restore': (input) => core.vault.startRestore(input),

    'network.ledger': (input) => core.network.view(input),

    'apiTokens.list': () => core.apiTokens.list(),
    'apiTokens.create': (input) => core.apiTokens.create(input),
    'apiTokens.revoke': ({ tokenId }) => core.apiTokens.revoke(tokenId),
  };
}
