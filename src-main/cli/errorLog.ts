import { appendFileSync, closeSync, constants, existsSync, mkdirSync, openSync, renameSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { inspect } from 'node:util';
import { HearthError } from '../core/common/hearthError';
import type { Logger, LogLevel } from '../core/common/logger';
import { terminalSafe } from './format';

/** Past this size the log is moved to `<name>.1` (replacing the one before) and started again. */
const ROTATE_BYTES = 1024 * 1024;
const LOG_NAME = 'hearth-cli.log';

/**
 * Where the CLI puts what its one-line messages leave out: stack traces and causes. In the
 * library a command opened (`<dataDir>/logs/hearth-cli.log`); before one is opened (or for a
 * restore, which opens none), in the library in use if it exists, else in the temp folder.
 * Writing never fails a command: a log that cannot be written is skipped.
 */
export class ErrorLog {
  private dataDir: string | null = null;

  constructor(private readonly fallbackDataDir: string | null) {}

  /** A command opened the library in dataDir: its details go there from now on. */
  useDataDir(dataDir: string): void {
    this.dataDir = dataDir;
  }

  get path(): string {
    const dataDir = this.dataDir ?? (this.fallbackDataDir && existsSync(this.fallbackDataDir) ? this.fallbackDataDir : null);
    return dataDir ? join(dataDir, 'logs', LOG_NAME) : join(tmpdir(), `hearth-cli-${process.getuid?.() ?? 'user'}.log`);
  }

  /** Appends a dated entry: what happened, then every detail in full (errors with their stack and causes). Returns the path, or null. */
  write(what: string, details: readonly unknown[]): string | null {
    const path = this.path;
    const body = details.map((d) => (typeof d === 'string' ? d : inspect(d, { depth: 6 }))).join('\n');
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      rotate(path);
      // Never through a link someone left at that name (the temp folder is shared).
      const fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
      try {
        appendFileSync(fd, `[${new Date().toISOString()} pid ${process.pid}] ${what}\n${body}${body ? '\n' : ''}\n`);
      } finally {
        closeSync(fd);
      }
      return path;
    } catch {
      return null;
    }
  }
}

function rotate(path: string): void {
  try {
    if (statSync(path).size > ROTATE_BYTES) renameSync(path, `${path}.1`);
  } catch {
    // Not there yet.
  }
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

/**
 * The CLI's logger: one line per message on stderr (an error detail shown as its code and
 * message), never a stack; the details in full go to the error log, whose path the line names.
 * A one-shot command reports its own failure as `error CODE: message`, so there a message
 * about an expected failure (a HearthError, such as the job that failed) goes to the log only;
 * a server (`serving`) prints it, as nobody else will.
 */
export function createCliLogger(level: LogLevel, stderr: (text: string) => void, log: ErrorLog, options: { serving?: boolean } = {}): Logger {
  const at = (l: Exclude<LogLevel, 'silent'>) => (message: string, ...details: unknown[]) => {
    if (ORDER[l] < ORDER[level]) return;
    const errors = details.filter((d) => d instanceof Error);
    const path = errors.length > 0 ? log.write(`${l}: ${message}`, details) : null;
    if (!options.serving && errors.length > 0 && errors.every((e) => e instanceof HearthError)) return;
    const summary = details.map(summarize).filter((s) => s !== '');
    const where = path ? ` (details in ${path})` : '';
    stderr(`[hearth ${l}] ${terminalSafe([message, ...summary].join(': '))}${terminalSafe(where)}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** An error as "CODE: message" (INTERNAL for one Hearth did not expect); other details as text. */
function summarize(detail: unknown): string {
  if (detail instanceof HearthError) return `${detail.code}: ${detail.message}`;
  if (detail instanceof Error) return `INTERNAL: ${detail.message}`;
  if (detail === undefined) return '';
  return typeof detail === 'string' ? detail : inspect(detail, { depth: 2, breakLength: Infinity });
}
