import type { SearchHit, SearchMode } from '#contract/dto';
import type { CliContext } from '../cliContext';
import { locationLabel } from '../../core/inference/sourceContext';
import { DOCUMENT_FORMATS, SEARCH_MODES } from '#contract/vocabulary';
import { defineCommand } from '../declare/commandSpec';
import { choice, flag, integer, text } from '../declare/options';
import { words } from '../declare/positionals';
import { clip, terminalSafe } from '../format';
import { commandBasics, type CoreArgs } from '../commandBasics';
import { printResult } from '../output';
import { UsageError } from '../usageError';
import { coreOptions, jsonOption } from '../sharedOptions';
import { contractInput } from '../contractInput';
import { openSearchCore, type SearchCore } from '../../core/searchCore';

const MODES: readonly SearchMode[] = SEARCH_MODES;

/** `hearth search QUERY`: ranked passages from the indexed documents. */
export const searchCommand = defineCommand({
  name: 'search',
  summary: 'Search your indexed documents (--json for ranked passages)',
  description: `Hybrid search over your indexed documents: BM25 full-text and vector similarity, fused by
reciprocal rank fusion. Prints ranked passages with their file, page or lines, and score.`,
  options: {
    ...jsonOption('Ranked chunks as JSON: path, location, heading, score, text, ...'),
    collection: text('NAME', 'Only this collection (repeatable)').repeat().alias('c'),
    type: choice('FORMAT', DOCUMENT_FORMATS, `Only this format: ${DOCUMENT_FORMATS.join(', ')} (repeatable)`).repeat(),
    path: text('PREFIX', 'Only files under this folder'),
    limit: integer('N', 'How many passages (default 10, at most 100)', { min: 1, max: 100 }).orElse(10).alias('n'),
    mode: choice('MODE', MODES, 'hybrid (default), bm25 or vector').orElse('hybrid'),
    rerank: flag('Rerank with the default reranker model'),
    ...coreOptions,
  },
  positionals: { query: words('QUERY', 'What to look for (several words are joined)', 'What to search for? hearth search "your question"') },
  run: ({ command, options, args }, ctx) => {
    const input = contractInput(
      'search.query',
      {
        query: args.query,
        limit: options.limit,
        mode: options.mode,
        rerank: options.rerank,
        ...(options.type.length ? { formats: options.type } : {}),
        ...(options.path ? { pathPrefix: options.path } : {}),
      },
      command,
      { query: 'QUERY', formats: '--type', pathPrefix: '--path PREFIX' },
    );
    return withSearchCore(options, ctx, async (core) => {
      const collectionIds = options.collection.map((name) => {
        const found = core.findCollection(name);
        if (!found) throw new UsageError(`No collection named "${name}" (hearth collections ls)`, command);
        return found.id;
      });
      const hits = await core.search({ ...input, ...(collectionIds.length ? { collectionIds } : {}) });
      printResult(ctx, options.json, hits.map(hitJson), () => (hits.length ? hits.map(hitText).join('\n\n') : `Nothing found for "${terminalSafe(args.query)}".`));
      return 0;
    });
  },
});

function hitJson(hit: SearchHit) {
  return {
    path: hit.path,
    location: hit.location,
    heading: hit.heading,
    score: hit.score,
    relevance: hit.relevance,
    text: hit.text,
    chunkId: hit.chunkId,
    docId: hit.docId,
    collectionId: hit.collectionId,
    title: hit.title,
    format: hit.format,
    bm25Rank: hit.bm25Rank,
    vectorRank: hit.vectorRank,
    similarity: hit.similarity,
    rerankScore: hit.rerankScore,
  };
}

function hitText(hit: SearchHit, index: number): string {
  const where = [hit.path, locationLabel(hit.location), hit.heading.join(' › ')].filter(Boolean).join(' — ');
  return `${index + 1}. ${terminalSafe(where)}  (score ${hit.score.toFixed(4)})\n   ${clip(hit.text.replace(/\s+/g, ' '), 300)}`;
}

/**
 * A search reads the index and nothing else, so it opens the lean search core instead of the
 * whole one (no jobs, watcher, vault, downloads or servers to load and start): the command
 * starts in a fraction of the time. Always disposed.
 */
async function withSearchCore<T>(args: CoreArgs, ctx: CliContext, run: (core: SearchCore) => Promise<T>): Promise<T> {
  const { logger, ...config } = commandBasics(args, ctx, 'warn');
  const core = openSearchCore({ ...config, host: 'server' }, logger);
  try {
    return await run(core);
  } finally {
    await core.dispose();
  }
}
