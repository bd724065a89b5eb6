import type { BackendInfo, ModelInfo, ThreadSummary } from '#contract/dto';

/** Which backend answers, and why; CPU fallbacks the user would not expect are a WARNING. */
export function backendLine(backend: BackendInfo): string {
  return backend.warning ? `WARNING: ${backend.reason}` : `Inference: ${backend.reason}`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
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
