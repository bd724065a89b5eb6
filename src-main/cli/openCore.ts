import type { LogLevel } from '../core/common/logger';
import { createCore, type Core } from '../core/createCore';
import type { HostControl } from '../core/ports/hostControl';
import type { LibraryOptions } from '../core/library/documentLibrary';
import { HostSecretStore } from '../core/ports/secretServiceStore';
import type { CliContext } from './cliContext';
import { commandBasics, type CoreArgs } from './commandBasics';

export type { CoreArgs } from './commandBasics';

/**
 * The core for a command, configured from its options (the parser already read
 * $HEARTH_DATA_DIR and $HEARTH_GPU for them) and $HEARTH_LOG. Logs one line per message on
 * stderr; stack traces go to the library's error log (createCliLogger: `serving` for a
 * server, which prints the failures nobody else reports). The caller disposes it.
 */
export function openCore(
  args: CoreArgs,
  ctx: CliContext,
  defaultLogLevel: LogLevel,
  library: Partial<LibraryOptions> = {},
  options: { serving?: boolean; host?: HostControl } = {},
): Core {
  const { dataDir, extraModelDirs, gpu, threads, embeddingContexts, logger } = commandBasics(args, ctx, defaultLogLevel, options);
  return createCore(
    {
      dataDir,
      extraModelDirs,
      gpu,
      threads,
      embeddingContexts,
      host: 'server',
      version: ctx.version,
      catalogPath: ctx.catalogPath,
      parseWorkerPath: ctx.parseWorkerPath,
      library,
    },
    // The Secret Service where a server or terminal has one; otherwise the data directory (said wherever "remember" is offered).
    {
      logger,
      secrets: new HostSecretStore(dataDir, ctx.env),
      ...(options.host ? { host: options.host } : {}),
    },
  );
}

/** Opens the core for one command and always disposes of it. */
export async function withCore<T>(
  args: CoreArgs,
  ctx: CliContext,
  run: (core: Core) => Promise<T>,
  options: { logLevel?: LogLevel; library?: Partial<LibraryOptions> } = {},
): Promise<T> {
  const core = openCore(args, ctx, options.logLevel ?? 'warn', options.library);
  try {
    return await run(core);
  } finally {
    await core.dispose();
  }
}
