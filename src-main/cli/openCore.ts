import { resolve } from 'node:path';
import { createConsoleLogger, type LogLevel } from '../core/common/logger';
import { createCore, type Core } from '../core/createCore';
import type { LibraryOptions } from '../core/library/documentLibrary';
import { resolveDataDir } from '../core/ports/dataDir';
import type { CliContext } from './cliContext';
import { parseGpu, parseInteger } from './commandArgs';

export interface CoreArgs {
  'data-dir'?: string;
  'models-dir'?: string[];
  gpu?: string;
  threads?: string;
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/**
 * The core for a command, configured from its flags and the environment the composition
 * root handed over (HEARTH_DATA_DIR, HEARTH_GPU, HEARTH_LOG). The caller disposes it.
 */
export function openCore(
  command: string,
  args: CoreArgs,
  ctx: CliContext,
  defaultLogLevel: LogLevel,
  library: Partial<LibraryOptions> = {},
): Core {
  const gpu = parseGpu(args.gpu ?? ctx.env.HEARTH_GPU, command) ?? 'auto';
  const threads = parseInteger(args.threads, '--threads', command, { min: 1, max: 1024 });
  const level = LOG_LEVELS.find((l) => l === ctx.env.HEARTH_LOG) ?? defaultLogLevel;
  return createCore(
    {
      dataDir: resolveDataDir(args['data-dir'], ctx.env),
      extraModelDirs: (args['models-dir'] ?? []).map((dir) => resolve(dir)),
      gpu,
      threads,
      host: 'server',
      version: ctx.version,
      catalogPath: ctx.catalogPath,
      parseWorkerPath: ctx.parseWorkerPath,
      library,
    },
    { logger: createConsoleLogger(level) },
  );
}
