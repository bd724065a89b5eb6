import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { version } from '../../package.json';
import { HearthError } from '../core/common/hearthError';
import type { CliContext } from './cliContext';
import { COMMANDS } from './commandIndex';
import { helpFor, runNode } from './declare/dispatch';
import { rootHelp } from './declare/help';
import { terminalSafe } from './format';
import { resolveDataDir } from '../core/ports/dataDir';
import { ErrorLog } from './errorLog';
import { printError } from './output';
import { UsageError } from './usageError';

/** A signal this soon after the first is a library's echo of it, not a second Ctrl+C. */
const SIGNAL_ECHO_MS = 1000;

/**
 * The `hearth` command line: the composition root of the CLI and the headless server. It
 * alone reads the process (argv, env, signals); commands get a CliContext. Returns the exit
 * code: 0 success, 1 an error with its code, 2 a usage error.
 */
export async function main(argv: string[]): Promise<number> {
  // LanceDB's Rust side warns on every query at its default level; keep stderr for real problems.
  process.env.LANCE_LOG ??= 'error';
  process.env.LANCEDB_LOG ??= 'error';
  const ctx = processContext();
  // ipull can leave a rejected promise behind when a download connection fails mid-transfer
  // (the download itself is already handled and reported); log it rather than crash the server.
  process.on('unhandledRejection', (reason) => {
    ctx.stderr(`hearth: ignored an unhandled rejection: ${terminalSafe(reason instanceof Error ? reason.message : String(reason))}\n`);
  });
  const [name, ...args] = argv;
  try {
    if (name === undefined) throw new UsageError('Which command?');
    if (name === '--help' || name === '-h' || (name === 'help' && args.length === 0)) {
      ctx.stdout(`${await rootHelpText()}\n`);
      return 0;
    }
    if (name === 'help') {
      const help = helpFor((await import('./commands')).rootCommand, args);
      if (help === null) throw new UsageError(`No help for "${args.join(' ')}"`);
      ctx.stdout(`${help}\n`);
      return 0;
    }
    if (name === '--version' || name === '-v' || name === 'version') {
      ctx.stdout(`${ctx.version}\n`);
      return 0;
    }
    // Only the command that runs is loaded (commandIndex.ts): each starts with what it needs.
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new UsageError(`Unknown command "${name}"`);
    return await runNode(await command.load(), name, args, ctx);
  } catch (error) {
    return report(error, ctx);
  }
}

/** The list of every command: the one place that loads them all. */
async function rootHelpText(): Promise<string> {
  const { ROOT_TEXT, rootCommand } = await import('./commands');
  return rootHelp(rootCommand, ROOT_TEXT);
}

/**
 * Every failure is one `error CODE: message` line; its stack goes to the error log. An
 * unexpected one (INTERNAL) also names the log's path, and shows the stack with HEARTH_LOG=debug.
 */
async function report(error: unknown, ctx: CliContext): Promise<number> {
  if (error instanceof UsageError) {
    const help = error.command ? `hearth ${error.command} --help` : 'hearth --help';
    if (error.command === null) ctx.stderr(`${await rootHelpText()}\n\n`);
    ctx.stderr(`hearth: ${terminalSafe(error.message)}\nRun "${terminalSafe(help)}" for usage.\n`);
    return 2;
  }
  if (error instanceof HearthError) {
    ctx.errorLog.write(`error ${error.code}: ${error.message}`, [error]);
    printError(ctx, error.code, error.message);
    return 1;
  }
  const message = error instanceof Error ? error.message : String(error);
  const logged = ctx.errorLog.write(`error INTERNAL: ${message}`, [error]);
  printError(ctx, 'INTERNAL', message);
  if (logged) ctx.stderr(`hearth: the details of this unexpected error are in ${terminalSafe(logged)}\n`);
  if (ctx.env.HEARTH_LOG === 'debug' && error instanceof Error && error.stack) ctx.stderr(`${error.stack}\n`);
  return 1;
}

function processContext(): CliContext {
  return {
    errorLog: new ErrorLog(resolveDataDir(undefined, process.env)),
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    env: process.env,
    version,
    defaultRendererDir: defaultRendererDir(),
    // out/main/cli.js and src-main/cli/main.ts are both two levels below the app root.
    catalogPath: fileURLToPath(new URL('../../models/catalog.json', import.meta.url)),
    parseWorkerPath: parseWorkerPath(),
    async readStdin() {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    onSignal(handler) {
      let receivedAt: number | null = null;
      const listener = (signal: NodeJS.Signals) => {
        if (receivedAt !== null) {
          // when-exit (w3up-client -> conf -> atomically) re-raises the signal it sees once; that
          // echo comes right after the first, and is not the user pressing Ctrl+C again.
          if (Date.now() - receivedAt < SIGNAL_ECHO_MS) return;
          // A second Ctrl+C means "now": shutdown is stuck or too slow for the user.
          process.exit(130);
        }
        receivedAt = Date.now();
        handler(signal);
      };
      process.on('SIGINT', listener);
      process.on('SIGTERM', listener);
      return () => {
        process.off('SIGINT', listener);
        process.off('SIGTERM', listener);
        // The echo may still be on its way; with no listener left it would kill the process mid-shutdown.
        if (receivedAt !== null) absorbSignalEcho();
      };
    },
    onUserRequest(handler) {
      const onSignal = () => handler();
      // Windows has no SIGUSR2; Enter in the terminal works everywhere.
      if (process.platform !== 'win32') process.on('SIGUSR2', onSignal);
      const stdin = process.stdin.isTTY ? process.stdin : null;
      const onLine = (chunk: Buffer) => {
        for (const char of chunk.toString('utf8')) if (char === '\n') handler();
      };
      stdin?.on('data', onLine);
      return () => {
        if (process.platform !== 'win32') process.off('SIGUSR2', onSignal);
        stdin?.off('data', onLine);
        // A paused stdin no longer keeps the process alive.
        stdin?.pause();
      };
    },
    stdio: { input: process.stdin, output: process.stdout },
    pid: process.pid,
  };
}

/** Ignores SIGINT and SIGTERM for SIGNAL_ECHO_MS (the timer does not keep the process alive). */
function absorbSignalEcho(): void {
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  process.on('SIGTERM', ignore);
  setTimeout(() => {
    process.off('SIGINT', ignore);
    process.off('SIGTERM', ignore);
  }, SIGNAL_ECHO_MS).unref();
}

/** out/renderer beside the built CLI (out/main/cli.js); from sources (tsx), the repository's out/renderer. */
function defaultRendererDir(): string {
  const candidates = [new URL('../renderer', import.meta.url), new URL('../../out/renderer', import.meta.url)].map((url) =>
    fileURLToPath(url),
  );
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[0]!;
}

/** The document parser's child-process entry: bundled beside the built CLI, or its TypeScript source when run with tsx. */
function parseWorkerPath(): string {
  const built = fileURLToPath(new URL('./parseWorker.js', import.meta.url));
  return existsSync(built) ? built : fileURLToPath(new URL('../core/library/parse/parseWorker.ts', import.meta.url));
}
