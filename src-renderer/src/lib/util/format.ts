import type { ErrorData } from '#contract/errors';
import { formatBytes } from '#contract/format';
import type { VaultTargetKind } from '#contract/vocabulary';

/** The one byte formatter lives in the contract, shared with the CLI and the core. */
export { formatBytes };

/** An error as one log line: the stable code, then the server's message (people see humanError's sentence instead). */
export function errorText(error: ErrorData): string {
  return `${error.code} — ${error.message}`;
}

/** What each kind of vault target is called on screen. */
export const TARGET_KIND_LABELS = { folder: 'Folder', kubo: 'IPFS node', w3up: 'web3.storage' } as const satisfies Record<VaultTargetKind, string>;

const integer = new Intl.NumberFormat('en');

export function formatNumber(value: number): string {
  return integer.format(Math.round(value));
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", then a date. */
export function relativeTime(timestamp: number, now: number): string {
  const elapsed = Math.max(0, now - timestamp);
  if (elapsed < MINUTE) return 'just now';
  if (elapsed < HOUR) return `${Math.floor(elapsed / MINUTE)} min ago`;
  if (elapsed < DAY) return `${Math.floor(elapsed / HOUR)} h ago`;
  if (elapsed < 2 * DAY) return 'yesterday';
  if (elapsed < 7 * DAY) return `${Math.floor(elapsed / DAY)} days ago`;
  const date = new Date(timestamp);
  const sameYear = date.getFullYear() === new Date(now).getFullYear();
  return date.toLocaleDateString(undefined, { month: 'short', day: 'numeric', ...(sameYear ? {} : { year: 'numeric' }) });
}

export function absoluteTime(timestamp: number): string {
  return new Date(timestamp).toLocaleString();
}

/** The file's name without folder or .gguf: what the user knows the model by. */
export function fileStem(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? path;
  return base.replace(/\.gguf$/i, '');
}

/**
 * A model's label: the one name the core gives it everywhere (the GGUF's own name, or the
 * file name where that name is generic, like "llama").
 */
export function modelLabel(model: { name: string; path: string }): string {
  return model.name.trim() || fileStem(model.path);
}

/** "1.2 MB/s" */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

/** "45 s", "3 min 20 s", "1 h 5 min": how long a download still needs. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) {
    const rest = s % 60;
    return `${Math.floor(s / 60)} min${rest ? ` ${rest} s` : ''}`;
  }
  const minutes = Math.floor((s % 3600) / 60);
  return `${Math.floor(s / 3600)} h${minutes ? ` ${minutes} min` : ''}`;
}

/** A parameter count as people say it: 260K, 494M, 7.6B. */
export function formatParameters(count: number): string {
  const units: Array<[number, string]> = [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [size, unit] of units) {
    if (count >= size) {
      const value = count / size;
      return `${value >= 100 ? Math.round(value) : Number(value.toPrecision(value >= 10 ? 3 : 2))}${unit}`;
    }
  }
  return String(count);
}

/** 12345 → "12.3K", for download and like counts. */
export function formatCount(count: number): string {
  if (count < 1000) return String(count);
  return formatParameters(count);
}

/** "1 file", "3 files", "1,204 chunks". */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${formatNumber(count)} ${count === 1 ? noun : nouns}`;
}
