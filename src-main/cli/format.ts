import type { BackendInfo, ModelInfo, ThreadSummary } from '#contract/dto';
import { formatBytes } from '#contract/format';

/** The one byte formatter lives in the contract, shared with the UI. */
export { formatBytes };

/** Which backend answers, and why; CPU fallbacks the user would not expect are a WARNING. */
export function backendLine(backend: BackendInfo): string {
  return backend.warning ? `WARNING: ${backend.reason}` : `Inference: ${backend.reason}`;
}

/**
 * User-controlled text made safe for a terminal: control characters (C0 with ESC and CR, DEL,
 * C1) and the characters that reorder or break lines (bidi overrides and isolates, U+2028/9)
 * are shown as visible escapes (`\x1b`, `\r`, `\n`, `\u202e`), so a file name cannot write the
 * clipboard (OSC 52), move the cursor, recolour the screen, or forge a line. keepLines keeps
 * newlines and tabs, for text whose lines are ours (a whole command's output) and whose
 * user-controlled parts were escaped without it.
 */
export function terminalSafe(text: string, options: { keepLines?: boolean } = {}): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!isUnsafe(code) || (options.keepLines && (code === 0x0a || code === 0x09))) continue;
    out += text.slice(from, i) + visibleEscape(code);
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

function isUnsafe(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x061c || // Arabic letter mark
    code === 0x200e || // left-to-right mark
    code === 0x200f || // right-to-left mark
    (code >= 0x2028 && code <= 0x202e) || // line and paragraph separators, bidi embeddings and overrides
    (code >= 0x2066 && code <= 0x2069) // bidi isolates
  );
}

const NAMED: Readonly<Record<number, string>> = { 0x09: '\\t', 0x0a: '\\n', 0x0d: '\\r' };

function visibleEscape(code: number): string {
  const named = NAMED[code];
  if (named) return named;
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Left-aligned columns separated by two spaces; the last column is not padded. Cells are
 * user data on one line each, so every cell is escaped (terminalSafe), newlines included.
 */
export function table(cells: string[][]): string {
  const rows = cells.map((row) => row.map((cell) => terminalSafe(cell)));
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '))
    .join('\n');
}

export function modelTable(models: ModelInfo[]): string {
  return table([
    ['ID', 'NAME', 'SIZE', 'PATH'],
    ...models.map((m) => [m.id, m.name, formatBytes(m.sizeBytes), m.present ? m.path : `${m.path} (missing)`]),
  ]);
}

export function threadTable(threads: ThreadSummary[]): string {
  return table([
    ['ID', 'UPDATED', 'MESSAGES', 'TITLE'],
    ...threads.map((t) => [t.id, new Date(t.updatedAt).toISOString().slice(0, 16).replace('T', ' '), String(t.messageCount), t.title]),
  ]);
}

export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
