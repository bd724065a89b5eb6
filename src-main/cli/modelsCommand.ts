import type { FitResult, JobInfo, ModelInfo, ModelPurpose, ModelSource } from '#contract/dto';
import type { Core } from '../core/createCore';
import { resolveSource } from '../core/models/resolveSource';
import type { CliContext } from './cliContext';
import { commandArgs, coreOptions } from './commandArgs';
import { formatBytes, json, modelTable, table } from './format';
import { helpText } from './helpText';
import { parseModelSource } from './modelSourceArg';
import { openCore } from './openCore';
import { UsageError } from './usageError';

const SUBCOMMANDS = ['ls', 'add', 'import', 'rm', 'info', 'search', 'files', 'fit', 'pull', 'default', 'catalog'] as const;
type Sub = (typeof SUBCOMMANDS)[number];
/** How many positional arguments each takes. */
const ARITY: Record<Sub, number> = { ls: 0, catalog: 0, add: 1, import: 1, rm: 1, info: 1, search: 1, files: 1, fit: 1, pull: 1, default: 1 };
const PURPOSES: readonly ModelPurpose[] = ['chat', 'embedding', 'rerank'];

/** `hearth models ls|add|import|rm|info|search|files|fit|pull|default|catalog`. */
export async function modelsCommand(args: string[], ctx: CliContext): Promise<number> {
  const [word, ...rest] = args;
  if (word === undefined || word === '--help' || word === '-h' || word === 'help') {
    if (word === undefined) throw new UsageError(`Which models command: ${SUBCOMMANDS.join(', ')}?`, 'models');
    ctx.stdout(`${helpText.models}\n`);
    return 0;
  }
  const sub = SUBCOMMANDS.find((s) => s === word);
  if (!sub) throw new UsageError(`Unknown command "models ${word}"`, 'models');
  const command = `models ${sub}`;
  const { values, positionals } = commandArgs(command, rest, {
    ...coreOptions,
    json: { type: 'boolean' },
    copy: { type: 'boolean' },
    quant: { type: 'string' },
    sha256: { type: 'string' },
    limit: { type: 'string' },
    for: { type: 'string' },
    clear: { type: 'boolean' },
  });
  if (values.help) {
    ctx.stdout(`${helpText[command]}\n`);
    return 0;
  }
  if (positionals.length !== ARITY[sub]) {
    throw new UsageError(ARITY[sub] === 0 ? `Unexpected argument "${positionals[0]}"` : `${command} takes exactly one argument`, command);
  }
  const arg = positionals[0] ?? '';
  const purpose = PURPOSES.find((p) => p === (values.for ?? 'chat'));
  if (sub === 'default' && !purpose) throw new UsageError(`--for must be one of ${PURPOSES.join(', ')}`, command);
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new UsageError('--limit must be a whole number from 1 to 100', command);

  const core = openCore(command, values, ctx, 'warn');
  const out = (value: unknown, text: string) => ctx.stdout(values.json ? json(value) : text.endsWith('\n') ? text : `${text}\n`);
  try {
    switch (sub) {
      case 'ls': {
        const models = await core.models.list();
        out(models, models.length ? modelTable(models) : 'No models yet. Get one with: hearth models pull ID (see hearth models catalog)');
        break;
      }
      case 'catalog': {
        const entries = core.catalog.list();
        out(
          entries,
          table([
            ['ID', 'PURPOSE', 'PARAMS', 'SIZE', 'LICENSE'],
            ...entries.map((e) => {
              const file = e.files.find((f) => f.quantization === e.recommendedQuantization);
              return [e.id, e.purpose, e.parameters, file ? `~${formatBytes(file.sizeBytes)} (${file.quantization})` : '', e.license];
            }),
          ]),
        );
        break;
      }
      case 'add':
      case 'import': {
        const model = await core.models.import(arg, sub === 'import' && Boolean(values.copy));
        out(model, `Added ${model.name} as ${model.id}${model.managed ? ` (copied to ${model.path})` : ''}`);
        break;
      }
      case 'rm': {
        const model = core.models.info(arg);
        await core.models.remove(arg);
        out(null, model.managed ? `Removed ${model.name} and deleted ${model.path}` : `Removed ${model.name} (the file stays at ${model.path})`);
        break;
      }
      case 'info': {
        const model = core.models.info(arg);
        const fit = model.present ? await core.fit.fit(model.path, { gpuLayers: model.gpuLayers }) : null;
        out({ ...model, fit }, infoText(model, fit));
        break;
      }
      case 'search': {
        const results = await core.hub.search(arg, { limit });
        out(
          results,
          results.length
            ? table([['REPOSITORY', 'DOWNLOADS', 'LIKES', ''], ...results.map((r) => [r.repo, String(r.downloads), String(r.likes), r.gated ? 'gated' : ''])])
            : `No GGUF repositories match "${arg}".`,
        );
        break;
      }
      case 'files': {
        const files = await core.hub.files(arg);
        const headers = await core.hub.authHeaders();
        const fits = await Promise.all(files.map((f) => core.fit.fit(core.hub.resolveUrl(arg, f.file), { headers }).catch(() => null)));
        const recommended = core.fit.recommend(
          files.flatMap((f, i) => (fits[i] && f.quantization ? [{ quantization: f.quantization, fit: fits[i]!, sizeBytes: f.sizeBytes ?? 0 }] : [])),
        );
        out(
          files.map((f, i) => ({ ...f, fit: fits[i], recommended: f.quantization === recommended })),
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
        break;
      }
      case 'fit': {
        const known = (await core.models.list()).find((m) => m.id === arg || m.path === arg);
        const result = known
          ? await core.fit.fit(known.path, { gpuLayers: known.gpuLayers })
          : /^[./~]|^[A-Za-z]:\\/.test(arg)
            ? await core.fit.fit(arg)
            : await (async () => {
                const target = await resolveSource(core, parseModelSource(arg, command, { quant: values.quant }));
                return core.fit.fit(target.url, { headers: target.headers });
              })();
        out(result, `${result.label}${result.contextSize ? ` (context up to ${result.contextSize} tokens)` : ''}\n${result.reason}`);
        break;
      }
      case 'pull': {
        const source = parseModelSource(arg, command, { quant: values.quant, sha256: values.sha256 });
        return await pull(core, source, ctx, Boolean(values.json));
      }
      case 'default': {
        core.models.setDefault(purpose!, values.clear ? null : arg);
        out(null, values.clear ? `No default ${purpose} model` : `${core.models.info(arg).name} is the default ${purpose} model`);
        break;
      }
    }
    return 0;
  } finally {
    await core.dispose();
  }
}

function infoText(m: ModelInfo, fit: FitResult | null): string {
  return table([
    ['id', m.id],
    ['name', m.name],
    ['file', `${m.path}${m.present ? '' : ' (missing)'}`],
    ['size', formatBytes(m.sizeBytes)],
    ['kind', m.kind],
    ['architecture', m.architecture ?? 'unknown'],
    ['parameters', m.parameters === null ? 'unknown' : m.parameters.toLocaleString('en')],
    ['quantization', m.quantization ?? 'unknown'],
    ['context length', m.contextLength === null ? 'unknown' : String(m.contextLength)],
    ['chat template', m.hasChatTemplate ? 'yes' : 'no (a general template is used)'],
    ['GPU layers', m.gpuLayers === null ? 'auto' : String(m.gpuLayers)],
    ['default for', m.defaultFor.join(', ') || '-'],
    ['fit', fit ? `${fit.label}: ${fit.reason}` : '-'],
  ]);
}

async function pull(core: Core, source: ModelSource, ctx: CliContext, asJson: boolean): Promise<number> {
  let last = 0;
  const show = (job: JobInfo) => {
    if (asJson || !job.bytes || Date.now() - last < 250) return;
    last = Date.now();
    const { done, total, perSecond, etaSeconds } = job.bytes;
    const pct = total ? Math.floor((done / total) * 100) : null;
    const bar = pct === null ? '' : `[${'#'.repeat(Math.floor(pct / 5)).padEnd(20, '-')}] ${String(pct).padStart(3)}% `;
    const speed = perSecond ? ` ${formatBytes(perSecond)}/s` : '';
    const eta = etaSeconds !== null && etaSeconds !== undefined ? ` ETA ${Math.ceil(etaSeconds)}s` : '';
    ctx.stderr(`\r${bar}${formatBytes(done)}${total ? ` of ${formatBytes(total)}` : ''}${speed}${eta}   `);
  };
  const started = await core.downloads.pull(source);
  const off = core.events.on('jobs.update', (job) => job.id === started.id && show(job));
  // Ctrl+C pauses: the partial file stays, and pulling again resumes it.
  const stopSignal = ctx.onSignal(() => core.jobs.pause(started.id));
  try {
    const done = await core.jobs.wait(started.id);
    if (!asJson) ctx.stderr('\n');
    if (done.status === 'completed') {
      if (asJson) ctx.stdout(json(done));
      else ctx.stdout(`${done.title}: done. It is in the library (hearth models ls).\n`);
      return 0;
    }
    if (done.status === 'paused') {
      ctx.stderr('Paused. Run the same command again to resume.\n');
      return 130;
    }
    ctx.stderr(`error ${done.error?.code ?? 'DOWNLOAD_FAILED'}: ${done.error?.message ?? done.status}\n`);
    return 1;
  } finally {
    off();
    stopSignal();
  }
}
