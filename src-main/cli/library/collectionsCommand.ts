import { defineCommand, defineGroup } from '../declare/commandSpec';
import { arg } from '../declare/positionals';
import { terminalSafe } from '../format';
import { printList } from '../listOutput';
import { withCore } from '../openCore';
import { printResult } from '../output';
import { coreOptions, jsonOption } from '../sharedOptions';
import { contractInput } from '../contractInput';
import { UsageError } from '../usageError';

const noWatch = { library: { watch: false } };

const ls = defineCommand({
  name: 'ls',
  summary: 'Collections with their counts of sources, documents and chunks',
  description: 'Lists collections with their counts of sources, documents and chunks.',
  options: { ...jsonOption("Print the list (with each collection's sources) as JSON"), ...coreOptions },
  positionals: {},
  run: ({ options }, ctx) =>
    withCore(
      options,
      ctx,
      async (core) => {
        const all = core.library.collections();
        const withSources = options.json ? all.map((c) => ({ ...c, sources: core.library.sources(c.id) })) : all;
        printList(
          ctx,
          options.json,
          all,
          {
            empty: 'No collections yet. Add documents with: hearth index PATH',
            columns: ['ID', 'NAME', 'SOURCES', 'DOCUMENTS', 'CHUNKS'],
            row: (c) => [c.id, c.name, String(c.sourceCount), String(c.documentCount), String(c.chunkCount)],
          },
          withSources,
        );
        return 0;
      },
      noWatch,
    ),
});

const create = defineCommand({
  name: 'create',
  summary: 'Create an empty collection',
  description: 'Creates an empty collection. (hearth index PATH --collection NAME also creates it.)',
  options: { ...jsonOption('Print the collection as JSON'), ...coreOptions },
  positionals: { name: arg('NAME', 'The new collection’s name', 'collections create takes exactly one NAME') },
  run: ({ command, options, args }, ctx) => {
    const input = contractInput('collections.create', { name: args.name }, command, { name: 'NAME' });
    return withCore(
      options,
      ctx,
      async (core) => {
        const created = core.library.createCollection(input.name);
        printResult(ctx, options.json, created, `Created "${terminalSafe(created.name)}" (${created.id})`);
        return 0;
      },
      noWatch,
    );
  },
});

const rm = defineCommand({
  name: 'rm',
  summary: 'Remove a collection and its chunks from the index',
  description: 'Removes a collection and its chunks from the index. Your files are not touched.',
  options: { ...jsonOption('Print null as JSON'), ...coreOptions },
  positionals: { name: arg('NAME', 'The collection’s name or id', 'collections rm takes exactly one NAME') },
  run: ({ command, options, args }, ctx) =>
    withCore(
      options,
      ctx,
      async (core) => {
        const found = core.library.findCollection(args.name);
        if (!found) throw new UsageError(`No collection named "${args.name}"`, command);
        await core.library.deleteCollection(found.id);
        printResult(ctx, options.json, null, `Removed "${terminalSafe(found.name)}" from the index (the files stay where they are)`);
        return 0;
      },
      noWatch,
    ),
});

/** `hearth collections ls|create|rm`. */
export const collectionsCommand = defineGroup({
  name: 'collections',
  summary: 'ls, create, rm: named sets of folders and files',
  commands: [ls, create, rm],
});
