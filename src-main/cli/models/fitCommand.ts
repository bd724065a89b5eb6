import { defineCommand } from '../declare/commandSpec';
import { arg } from '../declare/positionals';
import { parseModelSource } from '../modelSourceArg';
import { withCore } from '../openCore';
import { printResult } from '../output';
import { coreOptions, jsonOption } from '../sharedOptions';
import { quantOption, SOURCE_HELP } from './sourceArg';

/** `hearth models fit SOURCE|ID|PATH`: how a model would run here, before or after downloading it. */
export const fitCommand = defineCommand({
  name: 'fit',
  summary: "How a model would run here (GPU, partly offloaded, CPU, won't fit)",
  description: `Says whether a model fits on the GPU, partly (N of M layers), on the CPU only, or not at
all, and the context size it allows, using node-llama-cpp's resolver on the file's header.`,
  options: { ...quantOption, ...jsonOption('Print the result as JSON'), ...coreOptions },
  positionals: {
    source: arg('SOURCE|ID|PATH', `A model of the library (its id or path), a GGUF file, or a SOURCE: ${SOURCE_HELP}`, 'models fit takes exactly one argument'),
  },
  run: ({ command, options, args }, ctx) =>
    withCore(options, ctx, async (core) => {
      const arg = args.source;
      const known = (await core.models.list()).find((m) => m.id === arg || m.path === arg);
      const result = await core.runner.fit(
        known
          ? { kind: 'local', modelId: known.id }
          : /^[./~]|^[A-Za-z]:\\/.test(arg)
            ? { kind: 'file', path: arg }
            : parseModelSource(arg, command, { quant: options.quant }),
      );
      printResult(ctx, options.json, result, `${result.label}${result.contextSize ? ` (context up to ${result.contextSize} tokens)` : ''}\n${result.reason}`);
      return 0;
    }),
});
