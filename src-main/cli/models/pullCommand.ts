import { defineCommand } from '../declare/commandSpec';
import { text } from '../declare/options';
import { arg } from '../declare/positionals';
import { terminalSafe } from '../format';
import { jobExitCode, waitForJob } from '../jobProgress';
import { parseModelSource } from '../modelSourceArg';
import { withCore } from '../openCore';
import { printResult } from '../output';
import { coreOptions, jsonOption } from '../sharedOptions';
import { quantOption, SOURCE_HELP } from './sourceArg';
import { contractInput } from '../contractInput';

/** `hearth models pull SOURCE`: a resumable download job with a progress bar. */
export const pullCommand = defineCommand({
  name: 'pull',
  summary: 'Download a model (resumable, verified) into the library',
  description: `Downloads a model as a resumable job with a progress bar: parallel connections, a free
space check first, the sha256 verified, then moved into the models folder and added to the
library.`,
  interrupt: 'pause',
  options: {
    ...quantOption,
    sha256: text('HEX', 'For a plain URL: the sha256 the file must have'),
    ...jsonOption('Print the result as JSON'),
    ...coreOptions,
  },
  positionals: { source: arg('SOURCE', SOURCE_HELP, 'models pull takes exactly one argument') },
  async run({ command, options, args, interrupt }, ctx) {
    const { source } = contractInput(
      'models.pull',
      { source: parseModelSource(args.source, command, { quant: options.quant, sha256: options.sha256 }) },
      command,
      { source: 'SOURCE' },
    );
    return withCore(options, ctx, async (core) => {
      const started = await core.downloads.pull(source);
      const done = await waitForJob(core, started, ctx, { quiet: options.json, interrupt });
      const code = jobExitCode(done, ctx);
      if (code === 0) printResult(ctx, options.json, done, `${terminalSafe(done.title)}: done. It is in the library (hearth models ls).`);
      return code;
    });
  },
});
