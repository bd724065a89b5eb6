const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

/**
 * "999 B", "1.2 MB", "870.0 KB", "12.3 GB": decimal units (1 KB = 1000 B), as the labels say
 * and as model hubs state download sizes, with one decimal. The one byte formatter of the UI,
 * the CLI and the core's messages.
 */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  if (unit === 0) return `${value} B`;
  // 999.96 KB would read "1000.0 KB": say "1.0 MB" instead.
  if (Number(value.toFixed(1)) >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}
