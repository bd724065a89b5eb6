import { defineCommand, defineGroup } from './declare/commandSpec';
import { threadTable } from './format';
import { withCore } from './openCore';
import { printResult } from './output';
import { coreOptions, jsonOption } from './sharedOptions';

/** `hearth threads ls`. */
const threadsLs = defineCommand({
  name: 'ls',
  summary: 'List chats, most recently updated first',
  description: 'Lists saved chats, most recently updated first.',
  options: { ...jsonOption('Print the list as JSON'), ...coreOptions },
  positionals: {},
  run: ({ options }, ctx) =>
    withCore(options, ctx, async (core) => {
      const threads = core.chat.listThreads();
      printResult(ctx, options.json, threads, () => (threads.length ? threadTable(threads) : 'No chats yet.'));
      return 0;
    }),
});

export const threadsCommand = defineGroup({ name: 'threads', summary: 'List chats', commands: [threadsLs] });
