import type { CliContext } from './cliContext';

/**
 * The one way a command prints its result: the data as JSON with --json, else the text
 * (computed only then; a final newline is added when missing).
 */
export function printResult<T>(ctx: CliContext, asJson: boolean, data: NotAFunction<T>, text: string | (() => string)): void {
  if (asJson) {
    ctx.stdout(json(data));
    return;
  }
  const shown = typeof text === 'function' ? text() : text;
  ctx.stdout(shown.endsWith('\n') ? shown : `${shown}\n`);
}

/** The data itself, never a function computing it (JSON.stringify would print nothing). */
type NotAFunction<T> = T extends (...args: never[]) => unknown ? never : T;

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
