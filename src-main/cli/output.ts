import type { CliContext } from './cliContext';
import { terminalSafe } from './format';

/**
 * The one way a command prints its result: the data as JSON with --json (JSON escapes control
 * characters itself), else the text (computed only then; a final newline is added when
 * missing), made terminal-safe: no control character in it reaches the terminal raw. Its
 * lines are kept; a user string that could hold a newline is escaped where it is put in
 * (table() does it for every cell).
 */
export function printResult<T>(ctx: CliContext, asJson: boolean, data: NotAFunction<T>, text: string | (() => string)): void {
  if (asJson) {
    ctx.stdout(json(data));
    return;
  }
  const shown = terminalSafe(typeof text === 'function' ? text() : text, { keepLines: true });
  ctx.stdout(shown.endsWith('\n') ? shown : `${shown}\n`);
}

/** The data itself, never a function computing it (JSON.stringify would print nothing). */
type NotAFunction<T> = T extends (...args: never[]) => unknown ? never : T;

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** The one "error CODE: message" line on stderr; the message (which may carry paths and names) is escaped. */
export function printError(ctx: CliContext, code: string, message: string): void {
  ctx.stderr(`error ${code}: ${terminalSafe(message)}\n`);
}
