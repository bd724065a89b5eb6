import type { DocumentInfo } from '#contract/dto';
import { defineCommand } from '../declare/commandSpec';
import { text } from '../declare/options';
import { arg } from '../declare/positionals';
import { table, terminalSafe } from '../format';
import { jobExitCode, waitForJob } from '../jobProgress';
import { withCore } from '../openCore';
import { printResult } from '../output';
import { coreOptions, jsonOption } from '../sharedOptions';
import { contractInput } from '../contractInput';

const DEFAULT_COLLECTION = 'Documents';

/** `hearth index PATH`: adds a folder or file to a collection and waits for indexing, with a progress bar. */
export const indexCommand = defineCommand({
  name: 'index',
  summary: 'Add a folder or file to a collection and index it (progress bar)',
  description: `Adds a folder (or one file) to a collection, creating the collection if needed, and indexes
it: files are parsed, chunked and stored in the local index, each searchable by full text as
soon as it is read (and kept if indexing stops), then embedded with the embedding model when
there is one. A progress bar shows the files read, the chunks embedded and the time left. Running it again on the same
folder only reads what changed (unchanged files are recognised by size, time and content
hash, and nothing is embedded again). Every file that is not indexed is listed with the
reason (empty, scanned PDF without text, password-protected, unsupported type, unreadable, ...).`,
  interrupt: 'pause',
  options: {
    collection: text('NAME', 'The collection to add to (default: "Documents")').orElse(DEFAULT_COLLECTION).alias('c'),
    ...jsonOption("Print the collection, source, job and every document's status as JSON"),
    ...coreOptions,
  },
  positionals: { path: arg('PATH', 'A folder or a file', 'index takes exactly one PATH (a folder or a file)') },
  run: ({ command, options, args, interrupt }, ctx) => {
    const { name } = contractInput('collections.create', { name: options.collection }, command, { name: '--collection NAME' });
    return withCore(
      options,
      ctx,
      async (core) => {
        const collection = core.library.ensureCollection(name);
        const { path } = contractInput('sources.add', { collectionId: collection.id, path: args.path }, command, { path: 'PATH' });
        const { source, job } = core.library.addSource(collection.id, path);
        const done = await waitForJob(core, job, ctx, { quiet: options.json, interrupt });
        const code = jobExitCode(done, ctx);
        const docs = core.library.documents({ sourceId: source.id });
        const counts = core.library.source(source.id).counts;
        const data = { collection: core.library.collection(collection.id), source: core.library.source(source.id), job: done, documents: docs };
        printResult(ctx, options.json, data, () => {
          const summary =
            `${terminalSafe(source.path)} in "${terminalSafe(collection.name)}": ${counts.indexed} indexed, ${counts.skipped} skipped, ${counts.failed} failed` +
            `${counts.pending ? `, ${counts.pending} pending` : ''}`;
          const problems = docs.filter((d) => d.status === 'skipped' || d.status === 'failed');
          return problems.length > 0 ? `${summary}\n${problemTable(problems)}` : summary;
        });
        return code;
      },
      { library: { watch: false } },
    );
  },
});

function problemTable(docs: DocumentInfo[]): string {
  return table([['STATUS', 'PATH', 'REASON'], ...docs.map((d) => [d.status, d.path, d.reason ?? ''])]);
}
