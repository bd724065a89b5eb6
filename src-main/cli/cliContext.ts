import type { Readable, Writable } from 'node:stream';
import type { ErrorLog } from './errorLog';

/**
 * What a command may use of the process it runs in. main.ts, the composition root, builds
 * it from the real process; commands never touch process.* themselves.
 */
export interface CliContext {
  /** Command output (data, answers, the server URL). */
  stdout(text: string): void;
  /** Diagnostics: backend, warnings, errors. Keeps stdout clean for pipes and --json. */
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  version: string;
  /** The built UI that `serve` uses unless --renderer-dir says otherwise. */
  defaultRendererDir: string;
  /** The model catalog shipped with the app (models/catalog.json). */
  catalogPath: string;
  /** The document parser's child-process entry (built parseWorker.js, or the .ts source under tsx). */
  parseWorkerPath: string;
  /** All of standard input, as text (for secrets passed as `-`, never as argv values). */
  readStdin(): Promise<string>;
  /** Calls handler on the first SIGINT/SIGTERM (a second one force-quits); returns an unsubscribe. */
  onSignal(handler: (signal: NodeJS.Signals) => void): () => void;
  /**
   * Calls handler each time the user asks a running command for more (`serve`: another
   * one-time URL): Enter on a terminal's stdin, or SIGUSR2. Returns an unsubscribe.
   */
  onUserRequest(handler: () => void): () => void;
  /** The raw standard streams, for a command that speaks a protocol over them (`hearth mcp`). */
  stdio: { input: Readable; output: Writable };
  /** This process's id, for instructions such as `kill -USR2 PID`. */
  pid: number;
  /** Where stack traces and other details go instead of stderr (openCore points it at the library). */
  errorLog: ErrorLog;
}
