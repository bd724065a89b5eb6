import type { CliContext } from './cliContext';

/**
 * The one way a command prints its result: the data as JSON with --json, else the text
 * (computed only then; a final newline is added when missing).
 */
export function printResult(ctx: CliContext, asJson: boolean, data: unknown, text: string | (() => string)): void {
  if (asJson) {
    ctx.stdout(json(data));
    return;
  }
  const shown = typeof text === 'function' ? text() : text;
  ctx.stdout(shown.endsWith('\n') ? shown : `${shown}\n`);
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
