import { resolve } from 'node:path';
import type { FitResult, ModelInfo, ModelPurpose } from '#contract/dto';
import { MODEL_PURPOSES } from '#contract/vocabulary';
import { defineCommand } from '../declare/commandSpec';
import { choice, flag } from '../declare/options';
import { arg } from '../declare/positionals';
import { formatBytes, modelTable, table, terminalSafe } from '../format';
import { jobExitCode, waitForJob } from '../jobProgress';
import { withCore } from '../openCore';
import { printResult } from '../output';
import { coreOptions, jsonOption } from '../sharedOptions';
import { contractInput } from '../contractInput';

/** `hearth models ls|info|add|import|rm|default`: the models in the library. */

const PURPOSES: readonly ModelPurpose[] = MODEL_PURPOSES;

export const lsCommand = defineCommand({
  name: 'ls',
  summary: 'List the models in the library',
  description: `Lists the models in the library: files added by path plus every .gguf file in the data
directory's models/ folder and in each --models-dir.`,
  options: { ...jsonOption('Print the list as JSON'), ...coreOptions },
  positionals: {},
  run: ({ options }, ctx) =>
    withCore(options, ctx, async (core) => {
      const models = await core.models.list();
      printResult(ctx, options.json, models, () =>
        models.length ? modelTable(models) : 'No models yet. Get one with: hearth models pull ID (see hearth models catalog)',
      );
      return 0;
    }),
});

export const infoCommand = defineCommand({
  name: 'info',
  summary: "A model's metadata and fit",
  description: `Shows a model's metadata (architecture, parameters, quantization, context length, chat
template, kind) and how it fits this machine.`,
  options: { ...jsonOption('Print as JSON'), ...coreOptions },
  positionals: { id: arg('ID', 'The model’s id (hearth models ls)', 'models info takes exactly one argument') },
  run: ({ options, args }, ctx) =>
    withCore(options, ctx, async (core) => {
      const model = core.models.info(args.id);
      const fit = model.present ? await core.runner.fit({ kind: 'local', modelId: model.id }) : null;
      printResult(ctx, options.json, { ...model, fit }, () => infoText(model, fit));
      return 0;
    }),
});

export const addCommand = defineCommand({
  name: 'add',
  summary: 'Add a GGUF file where it is',
  description: 'Checks that PATH is a readable, complete GGUF model and adds it to the library where it is.',
  options: { ...jsonOption('Print the added model as JSON'), ...coreOptions },
  positionals: { path: arg('PATH', 'The GGUF file', 'models add takes exactly one argument') },
  run: ({ command, options, args }, ctx) => {
    const { path } = contractInput('models.add', { path: resolve(args.path) }, command, { path: 'PATH' });
    return withCore(options, ctx, async (core) => {
      const model = await core.models.import(path, false);
      printResult(ctx, options.json, model, `Added ${terminalSafe(model.name)} as ${model.id}${model.managed ? ` (copied to ${terminalSafe(model.path)})` : ''}`);
      return 0;
    });
  },
});

export const importCommand = defineCommand({
  name: 'import',
  summary: "Copy a GGUF file into Hearth's models folder (with --copy)",
  description: `Adds a GGUF file to the library. With --copy it is copied into Hearth's models folder
(and deleted with the model later); without, it is referenced where it is.`,
  options: { copy: flag('Copy the file into the models folder'), ...jsonOption('Print the added model as JSON'), ...coreOptions },
  positionals: { path: arg('PATH', 'The GGUF file', 'models import takes exactly one argument') },
  run: ({ command, options, args }, ctx) => {
    const { path, copy } = contractInput('models.import', { path: resolve(args.path), copy: options.copy }, command, { path: 'PATH' });
    return withCore(options, ctx, async (core) => {
      const model = await core.models.import(path, copy);
      printResult(ctx, options.json, model, `Added ${terminalSafe(model.name)} as ${model.id}${model.managed ? ` (copied to ${terminalSafe(model.path)})` : ''}`);
      return 0;
    });
  },
});

export const rmCommand = defineCommand({
  name: 'rm',
  summary: "Remove a model (deleting the file if Hearth's folder holds it)",
  description: `Removes a model from the library. A file in Hearth's own models folder is deleted; a file
elsewhere (added by path or found in a --models-dir) is left where it is.`,
  options: { ...jsonOption('Print null as JSON'), ...coreOptions },
  positionals: { id: arg('ID', 'The model’s id (hearth models ls)', 'models rm takes exactly one argument') },
  run: ({ options, args }, ctx) =>
    withCore(options, ctx, async (core) => {
      const model = core.models.info(args.id);
      await core.runner.remove(args.id);
      printResult(ctx, options.json, null, model.managed ? `Removed ${terminalSafe(model.name)} and deleted ${terminalSafe(model.path)}` : `Removed ${terminalSafe(model.name)} (the file stays at ${terminalSafe(model.path)})`);
      return 0;
    }),
});

export const defaultCommand = defineCommand({
  name: 'default',
  summary: 'Make a model the default for chat, embedding or rerank',
  description: `Makes the model the default for a purpose (chat by default). A chat message with no model
loaded loads the default chat model. --clear removes the default.
A new embedding model embeds the indexed documents again, as the app does: the command
shows its progress and waits for it.`,
  interrupt: 'pause',
  options: {
    for: choice('PURPOSE', PURPOSES, 'chat (default), embedding or rerank').orElse('chat'),
    clear: flag('Remove the default for PURPOSE (ID is ignored)'),
    ...jsonOption('Print null as JSON, or the re-embedding job when there is one'),
    ...coreOptions,
  },
  positionals: { id: arg('ID', 'The model’s id (hearth models ls)', 'models default takes exactly one argument') },
  run: ({ options, args, interrupt }, ctx) =>
    withCore(
      options,
      ctx,
      async (core) => {
        const purpose = options.for;
        core.models.setDefault(purpose, options.clear ? null : args.id);
        const said = () => (options.clear ? `No default ${purpose} model` : `${core.models.info(args.id).name} is the default ${purpose} model`);
        // The library starts re-embedding when the embedding default changes (as in the app); wait for it, like hearth index.
        const job = purpose === 'embedding' ? core.library.currentJob() : null;
        if (!job || job.status === 'paused') {
          printResult(ctx, options.json, null, said);
          return 0;
        }
        const done = await waitForJob(core, job, ctx, { quiet: options.json, interrupt });
        const code = jobExitCode(done, ctx);
        printResult(ctx, options.json, done, () =>
          done.status === 'completed' ? `${said()}; your documents are embedded with it now` : `${said()}; embedding your documents with it did not finish (${done.status})`,
        );
        return code;
      },
      { library: { watch: false } },
    ),
});

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
