import type { BackendInfo, ModelInfo, ThreadSummary } from '#contract/dto';
import { formatBytes } from '#contract/format';

/** The one byte formatter lives in the contract, shared with the UI. */
export { formatBytes };

/** Which backend answers, and why; CPU fallbacks the user would not expect are a WARNING. */
export function backendLine(backend: BackendInfo): string {
  return backend.warning ? `WARNING: ${backend.reason}` : `Inference: ${backend.reason}`;
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(rows: string[][]): string {
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
