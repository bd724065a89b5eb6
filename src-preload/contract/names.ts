/**
 * The contract's call and event names as plain data. The preload needs only these (to refuse
 * anything else), so it does not bundle the zod schemas; api.ts checks at compile time that
 * these lists and its definitions name exactly the same things.
 */
export const CALL_NAMES = [
  'app.info',
  'app.switchDataDir',
  'settings.get',
  'settings.update',
  'settings.reset',
  'models.list',
  'models.add',
  'models.remove',
  'models.pickFile',
  'runtime.state',
  'runtime.load',
  'runtime.unload',
  'threads.list',
  'threads.create',
  'threads.get',
  'threads.update',
  'threads.delete',
  'threads.generation',
  'threads.setGeneration',
  'threads.search',
  'threads.export',
  'threads.import',
  'chat.send',
  'chat.stop',
  'chat.regenerate',
  'chat.edit',
  'chat.chooseVersion',
  'chat.context',
  'receipts.sign',
  'receipts.export',
  'receipts.verify',
  'jobs.list',
  'jobs.cancel',
  'jobs.pause',
  'jobs.resume',
  'catalog.list',
  'hub.search',
  'hub.files',
  'hub.setToken',
  'hardware.info',
  'models.fit',
  'models.pull',
  'models.import',
  'models.setDefault',
  'models.setGpuLayers',
  'threads.setCollections',
  'collections.list',
  'collections.create',
  'collections.rename',
  'collections.delete',
  'sources.list',
  'sources.add',
  'sources.remove',
  'sources.pick',
  'documents.list',
  'documents.chunk',
  'documents.open',
  'index.status',
  'index.rescan',
  'index.rebuild',
  'search.query',
  'vault.status',
  'vault.create',
  'vault.import',
  'vault.unlock',
  'vault.lock',
  'vault.revealPhrase',
  'vault.snapshot',
  'vault.snapshots',
  'vault.publish',
  'vault.targets',
  'vault.addTarget',
  'vault.removeTarget',
  'vault.setSchedule',
  'vault.restore',
  'network.ledger',
  'apiTokens.list',
  'apiTokens.create',
  'apiTokens.revoke',
] as const;

export const EVENT_NAMES = ['chat.stream', 'runtime.state', 'jobs.update', 'threads.changed', 'library.changed'] as const;

export type CallName = (typeof CALL_NAMES)[number];
export type EventName = (typeof EVENT_NAMES)[number];

export function isCallName(name: unknown): name is CallName {
  return typeof name === 'string' && (CALL_NAMES as readonly string[]).includes(name);
}

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && (EVENT_NAMES as readonly string[]).includes(name);
}
