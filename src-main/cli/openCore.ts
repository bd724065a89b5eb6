import type { LogLevel } from '../core/common/logger';
import { createCore, type Core } from '../core/createCore';
import { dataLayout, resolveDataDir } from '../core/ports/dataDir';
import type { HostControl } from '../core/ports/hostControl';
import { damageFound } from '../core/storage/database';
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
  options: { serving?: boolean; host?: HostControl; checkDatabaseAtOpen?: boolean } = {},
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
      ...(options.checkDatabaseAtOpen === false ? { checkDatabaseAtOpen: false } : {}),
    },
    // The Secret Service where a server or terminal has one; otherwise the data directory (said wherever "remember" is offered).
    {
      logger,
      secrets: new HostSecretStore(dataDir, ctx.env),
      ...(options.host ? { host: options.host } : {}),
    },
  );
}

/**
 * Opens the core for one command and always disposes of it. SQLite reporting a damaged
 * database, at open or later, is DATABASE_CORRUPT (with what to do) when hearth.db is the one
 * damaged: a command that opened it unchecked (checkDatabaseAtOpen false) says so like the others.
 */
export async function withCore<T>(
  args: CoreArgs,
  ctx: CliContext,
  run: (core: Core) => Promise<T>,
  options: { logLevel?: LogLevel; library?: Partial<LibraryOptions>; checkDatabaseAtOpen?: boolean } = {},
): Promise<T> {
  const database = dataLayout(resolveDataDir(args['data-dir'], ctx.env)).database;
  let core: Core;
  try {
    core = openCore(args, ctx, options.logLevel ?? 'warn', options.library, options.checkDatabaseAtOpen === false ? { checkDatabaseAtOpen: false } : {});
  } catch (error) {
    throw damageFound(database, error) ?? error;
  }
  try {
    return await run(core);
  } catch (error) {
    throw damageFound(database, error) ?? error;
  } finally {
    await core.dispose();
  }
}
