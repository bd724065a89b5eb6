import { DOCUMENT_STATUSES } from '#contract/vocabulary';
import { defineCommand, defineGroup } from '../declare/commandSpec';
import { choice } from '../declare/options';
import { printList } from '../listOutput';
import { withCore } from '../openCore';
import { coreOptions, jsonOption } from '../sharedOptions';

const STATUSES = DOCUMENT_STATUSES;

/** `hearth docs ls`: every file seen, with its status and, for skipped or failed ones, why. */
const ls = defineCommand({
  name: 'ls',
  summary: 'Every file seen, with its status and why it was skipped or failed',
  description: 'Lists every file seen under your sources: indexed, pending, skipped or failed, and why.',
  options: {
    status: choice('STATUS', STATUSES, 'Only pending, indexed, skipped or failed'),
    ...jsonOption('Print the list as JSON'),
    ...coreOptions,
  },
  positionals: {},
  run: ({ options }, ctx) =>
    withCore(
      options,
      ctx,
      async (core) => {
        const docs = core.library.documents(options.status ? { status: options.status } : {});
        printList(ctx, options.json, docs, {
          empty: 'No documents.',
          columns: ['STATUS', 'CHUNKS', 'PATH', 'REASON'],
          row: (d) => [d.status, String(d.chunkCount), d.path, d.reason ?? ''],
        });
        return 0;
      },
      { library: { watch: false } },
    ),
});

export const docsCommand = defineGroup({ name: 'docs', summary: 'Every file seen, with its status and why it was skipped or failed', commands: [ls] });
