import { defineCommand } from '../declare/commandSpec';
import { integer } from '../declare/options';
import { arg } from '../declare/positionals';
import { formatBytes, table } from '../format';
import { withCore } from '../openCore';
import { printResult } from '../output';
import { coreOptions, jsonOption } from '../sharedOptions';
import { contractInput } from '../contractInput';

/** `hearth models catalog|search|files`: what there is to download, and how it would run here. */

export const catalogCommand = defineCommand({
  name: 'catalog',
  summary: 'The curated catalog: chat, embedding and reranking models',
  description: `Lists the curated catalog shipped with Hearth. Sizes are approximate until the hub's
file listing is read; downloads are verified against the hub's published sha256.`,
  options: { ...jsonOption('Print the catalog as JSON'), ...coreOptions },
  positionals: {},
  run: ({ options }, ctx) =>
    withCore(options, ctx, async (core) => {
      const entries = core.catalog.list();
      printResult(ctx, options.json, entries, () =>
        table([
          ['ID', 'PURPOSE', 'PARAMS', 'SIZE', 'LICENSE'],
          ...entries.map((e) => {
            const file = e.files.find((f) => f.quantization === e.recommendedQuantization);
            return [e.id, e.purpose, e.parameters, file ? `~${formatBytes(file.sizeBytes)} (${file.quantization})` : '', e.license];
          }),
        ]),
      );
      return 0;
    }),
});

export const searchCommand = defineCommand({
  name: 'search',
  summary: 'Search Hugging Face for GGUF repositories',
  description: `Searches the Hugging Face hub (or the mirror in settings.hubEndpoint) for GGUF
repositories, most downloaded first.`,
  options: {
    limit: integer('N', 'At most N results (default 20)', { min: 1, max: 100 }).orElse(20),
    ...jsonOption('Print the results as JSON'),
    ...coreOptions,
  },
  positionals: { query: arg('QUERY', 'Words to look for in repository names', 'models search takes exactly one argument') },
  run: ({ command, options, args }, ctx) => {
    const input = contractInput('hub.search', { query: args.query, limit: options.limit }, command, { query: 'QUERY' });
    return withCore(options, ctx, async (core) => {
      const results = await core.hub.search(input.query, { limit: options.limit });
      printResult(ctx, options.json, results, () =>
        results.length
          ? table([['REPOSITORY', 'DOWNLOADS', 'LIKES', ''], ...results.map((r) => [r.repo, String(r.downloads), String(r.likes), r.gated ? 'gated' : ''])])
          : `No GGUF repositories match "${args.query}".`,
      );
      return 0;
    });
  },
});

export const filesCommand = defineCommand({
  name: 'files',
  summary: "A repository's GGUF files, with how each fits this machine",
  description: `Lists a repository's GGUF files with size, quantization and how each would run on this
machine (read from each file's header, not downloaded), and marks the one to choose.`,
  options: { ...jsonOption('Print the files as JSON'), ...coreOptions },
  positionals: { repo: arg('OWNER/REPO', 'A Hugging Face repository', 'models files takes exactly one argument') },
  run: ({ command, options, args }, ctx) => {
    contractInput('hub.files', { repo: args.repo }, command, { repo: 'OWNER/REPO' });
    return withCore(options, ctx, async (core) => {
      const files = await core.hub.files(args.repo);
      const headers = await core.hub.authHeaders();
      const fits = await Promise.all(files.map((f) => core.fit.fit(core.hub.resolveUrl(args.repo, f.file), { headers }).catch(() => null)));
      const recommended = core.fit.recommend(
        files.flatMap((f, i) => (fits[i] && f.quantization ? [{ quantization: f.quantization, fit: fits[i]!, sizeBytes: f.sizeBytes ?? 0 }] : [])),
      );
      printResult(
        ctx,
        options.json,
        files.map((f, i) => ({ ...f, fit: fits[i], recommended: f.quantization === recommended })),
        () =>
          table([
            ['FILE', 'QUANT', 'SIZE', 'FIT', ''],
            ...files.map((f, i) => [
              f.file,
              f.quantization ?? '',
              f.sizeBytes === null ? '' : formatBytes(f.sizeBytes),
              fits[i]?.label ?? 'unknown',
              f.quantization && f.quantization === recommended ? '← recommended for this machine' : '',
            ]),
          ]),
      );
      return 0;
    });
  },
});
