import type { DocumentInfo, JobInfo, SearchHit, SearchMode } from '#contract/dto';
import type { Core } from '../core/createCore';
import { locationLabel } from '../core/inference/sourceContext';
import { DOCUMENT_FORMATS, type DocumentFormat } from '../core/library/types';
import type { CliContext } from './cliContext';
import { commandArgs, coreOptions, parseInteger } from './commandArgs';
import { json, table } from './format';
import { helpText } from './helpText';
import { openCore } from './openCore';
import { UsageError } from './usageError';

const DEFAULT_COLLECTION = 'Documents';

function helpFor(command: string, values: { help?: boolean }, ctx: CliContext): boolean {
  if (!values.help) return false;
  ctx.stdout(`${helpText[command]}\n`);
  return true;
}

/** `hearth index PATH`: adds a folder or file to a collection and waits for indexing, with a progress bar. */
export async function indexCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = commandArgs('index', args, {
    ...coreOptions,
    collection: { type: 'string', short: 'c' },
    json: { type: 'boolean' },
  });
  if (helpFor('index', values, ctx)) return 0;
  if (positionals.length !== 1) throw new UsageError('index takes exactly one PATH (a folder or a file)', 'index');
  const core = openCore('index', values, ctx, 'warn', { watch: false });
  try {
    const collection = core.library.ensureCollection(values.collection ?? DEFAULT_COLLECTION);
    const { source, job } = core.library.addSource(collection.id, positionals[0]!);
    const done = await waitWithProgress(core, job, ctx, Boolean(values.json));
    const docs = core.library.documents({ sourceId: source.id });
    const counts = core.library.source(source.id).counts;
    if (values.json) {
      ctx.stdout(json({ collection: core.library.collection(collection.id), source: core.library.source(source.id), job: done, documents: docs }));
    } else {
      ctx.stdout(
        `${source.path} in "${collection.name}": ${counts.indexed} indexed, ${counts.skipped} skipped, ${counts.failed} failed` +
          `${counts.pending ? `, ${counts.pending} pending` : ''}\n`,
      );
      const problems = docs.filter((d) => d.status === 'skipped' || d.status === 'failed');
      if (problems.length > 0) ctx.stdout(`${problemTable(problems)}\n`);
    }
    return done.status === 'completed' ? 0 : done.status === 'paused' ? 130 : 1;
  } finally {
    await core.dispose();
  }
}

/** `hearth search QUERY`: ranked passages from the indexed documents. */
export async function searchCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = commandArgs('search', args, {
    ...coreOptions,
    json: { type: 'boolean' },
    collection: { type: 'string', short: 'c', multiple: true },
    type: { type: 'string', multiple: true },
    path: { type: 'string' },
    limit: { type: 'string', short: 'n' },
    mode: { type: 'string' },
    rerank: { type: 'boolean' },
  });
  if (helpFor('search', values, ctx)) return 0;
  const query = positionals.join(' ').trim();
  if (!query) throw new UsageError('What to search for? hearth search "your question"', 'search');
  const limit = parseInteger(values.limit, '--limit', 'search', { min: 1, max: 100 }) ?? 10;
  const modes: readonly SearchMode[] = ['hybrid', 'bm25', 'vector'];
  const mode = modes.find((m) => m === (values.mode ?? 'hybrid'));
  if (!mode) throw new UsageError(`--mode must be one of ${modes.join(', ')}`, 'search');
  const formats = (values.type ?? []).map((t) => {
    const format = DOCUMENT_FORMATS.find((f) => f === t);
    if (!format) throw new UsageError(`--type must be one of ${DOCUMENT_FORMATS.join(', ')}, not "${t}"`, 'search');
    return format;
  });
  const core = openCore('search', values, ctx, 'warn', { watch: false });
  try {
    const collectionIds = (values.collection ?? []).map((name) => {
      const found = core.library.collections().find((c) => c.name.toLowerCase() === name.toLowerCase() || c.id === name);
      if (!found) throw new UsageError(`No collection named "${name}" (hearth collections ls)`, 'search');
      return found.id;
    });
    const hits = await core.library.search({
      query,
      limit,
      mode,
      rerank: Boolean(values.rerank),
      ...(collectionIds.length ? { collectionIds } : {}),
      ...(formats.length ? { formats: formats as DocumentFormat[] } : {}),
      ...(values.path ? { pathPrefix: values.path } : {}),
    });
    if (values.json) ctx.stdout(json(hits.map(hitJson)));
    else ctx.stdout(hits.length ? `${hits.map(hitText).join('\n\n')}\n` : `Nothing found for "${query}".\n`);
    return 0;
  } finally {
    await core.dispose();
  }
}

/** `hearth collections ls|create|rm`. */
export async function collectionsCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    if (sub === undefined) throw new UsageError('Which collections command: ls, create, rm?', 'collections');
    ctx.stdout(`${helpText.collections}\n`);
    return 0;
  }
  if (sub !== 'ls' && sub !== 'create' && sub !== 'rm') throw new UsageError(`Unknown command "collections ${sub}"`, 'collections');
  const command = `collections ${sub}`;
  const { values, positionals } = commandArgs(command, rest, { ...coreOptions, json: { type: 'boolean' } });
  if (helpFor(command, values, ctx)) return 0;
  if (sub !== 'ls' && positionals.length !== 1) throw new UsageError(`${command} takes exactly one NAME`, command);
  const core = openCore(command, values, ctx, 'warn', { watch: false });
  try {
    if (sub === 'ls') {
      const all = core.library.collections();
      if (values.json) ctx.stdout(json(all.map((c) => ({ ...c, sources: core.library.sources(c.id) }))));
      else if (all.length === 0) ctx.stdout('No collections yet. Add documents with: hearth index PATH\n');
      else {
        ctx.stdout(
          `${table([
            ['ID', 'NAME', 'SOURCES', 'DOCUMENTS', 'CHUNKS'],
            ...all.map((c) => [c.id, c.name, String(c.sourceCount), String(c.documentCount), String(c.chunkCount)]),
          ])}\n`,
        );
      }
    } else if (sub === 'create') {
      const created = core.library.createCollection(positionals[0]!);
      ctx.stdout(values.json ? json(created) : `Created "${created.name}" (${created.id})\n`);
    } else {
      const name = positionals[0]!;
      const found = core.library.collections().find((c) => c.name.toLowerCase() === name.toLowerCase() || c.id === name);
      if (!found) throw new UsageError(`No collection named "${name}"`, command);
      await core.library.deleteCollection(found.id);
      ctx.stdout(values.json ? json(null) : `Removed "${found.name}" from the index (the files stay where they are)\n`);
    }
    return 0;
  } finally {
    await core.dispose();
  }
}

/** `hearth docs ls`: every file seen, with its status and, for skipped or failed ones, why. */
export async function docsCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    if (sub === undefined) throw new UsageError('Which docs command: ls?', 'docs');
    ctx.stdout(`${helpText.docs}\n`);
    return 0;
  }
  if (sub !== 'ls') throw new UsageError(`Unknown command "docs ${sub}"`, 'docs');
  const { values, positionals } = commandArgs('docs ls', rest, {
    ...coreOptions,
    json: { type: 'boolean' },
    status: { type: 'string' },
  });
  if (helpFor('docs ls', values, ctx)) return 0;
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}"`, 'docs ls');
  const statuses = ['pending', 'indexed', 'skipped', 'failed'] as const;
  const status = values.status === undefined ? undefined : statuses.find((s) => s === values.status);
  if (values.status !== undefined && !status) throw new UsageError(`--status must be one of ${statuses.join(', ')}`, 'docs ls');
  const core = openCore('docs ls', values, ctx, 'warn', { watch: false });
  try {
    const docs = core.library.documents(status ? { status } : {});
    if (values.json) ctx.stdout(json(docs));
    else if (docs.length === 0) ctx.stdout('No documents.\n');
    else {
      ctx.stdout(
        `${table([
          ['STATUS', 'CHUNKS', 'PATH', 'REASON'],
          ...docs.map((d) => [d.status, String(d.chunkCount), d.path, d.reason ?? '']),
        ])}\n`,
      );
    }
    return 0;
  } finally {
    await core.dispose();
  }
}

async function waitWithProgress(core: Core, job: JobInfo, ctx: CliContext, asJson: boolean): Promise<JobInfo> {
  let last = 0;
  const show = (info: JobInfo, force = false) => {
    if (asJson || (!force && Date.now() - last < 200)) return;
    last = Date.now();
    const pct = Math.floor((info.progress ?? 0) * 100);
    ctx.stderr(`\r[${'#'.repeat(Math.floor(pct / 5)).padEnd(20, '-')}] ${String(pct).padStart(3)}% ${clip(info.detail ?? '', 90)}\x1b[K`);
  };
  const off = core.events.on('jobs.update', (info) => info.id === job.id && show(info));
  // Ctrl+C pauses: what is indexed stays, and running the command again finishes the rest.
  const stopSignal = ctx.onSignal(() => core.jobs.pause(job.id));
  try {
    const done = await core.jobs.wait(job.id);
    show(done, true);
    if (!asJson) ctx.stderr('\n');
    if (done.status === 'paused') ctx.stderr('Paused. Run the same command again to finish.\n');
    else if (done.status !== 'completed') ctx.stderr(`error ${done.error?.code ?? 'INDEX_ERROR'}: ${done.error?.message ?? done.status}\n`);
    return done;
  } finally {
    off();
    stopSignal();
  }
}

function problemTable(docs: DocumentInfo[]): string {
  return table([['STATUS', 'PATH', 'REASON'], ...docs.map((d) => [d.status, d.path, d.reason ?? ''])]);
}

function hitJson(hit: SearchHit) {
  return {
    path: hit.path,
    location: hit.location,
    heading: hit.heading,
    score: hit.score,
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
  return `${index + 1}. ${where}  (score ${hit.score.toFixed(4)})\n   ${clip(hit.text.replace(/\s+/g, ' '), 300)}`;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
