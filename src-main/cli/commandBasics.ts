import { resolve } from 'node:path';
import { LOG_LEVELS, type Logger, type LogLevel } from '../core/common/logger';
import type { GpuSetting } from '../core/inference/llamaRuntime';
import { resolveDataDir } from '../core/ports/dataDir';
import type { CliContext } from './cliContext';
import { createCliLogger } from './errorLog';

/** The values of the shared core options (sharedOptions.ts), already checked by the parser. */
export interface CoreArgs {
  'data-dir'?: string | undefined;
  'models-dir'?: string[];
  gpu?: GpuSetting;
  threads?: number | undefined;
  'embedding-contexts'?: number | undefined;
}

/** What every core a command opens is configured with, read from its options and the environment. */
export interface CommandBasics {
  dataDir: string;
  extraModelDirs: string[];
  gpu: GpuSetting;
  threads: number | undefined;
  embeddingContexts: number | undefined;
  logger: Logger;
}

/**
 * The data directory (the parser already read $HEARTH_DATA_DIR and $HEARTH_GPU into the
 * options), the extra model folders and a logger at $HEARTH_LOG's level that writes one line
 * per message on stderr and stack traces to the library's error log (createCliLogger:
 * `serving` for a server, which prints the failures nobody else reports).
 */
export function commandBasics(args: CoreArgs, ctx: CliContext, defaultLogLevel: LogLevel, options: { serving?: boolean } = {}): CommandBasics {
  const level = LOG_LEVELS.find((l) => l === ctx.env.HEARTH_LOG) ?? defaultLogLevel;
  const dataDir = resolveDataDir(args['data-dir'], ctx.env);
  ctx.errorLog.useDataDir(dataDir);
  return {
    dataDir,
    extraModelDirs: (args['models-dir'] ?? []).map((dir) => resolve(dir)),
    gpu: args.gpu ?? 'auto',
    threads: args.threads,
    embeddingContexts: args['embedding-contexts'],
    logger: createCliLogger(level, ctx.stderr, ctx.errorLog, options),
  };
}
