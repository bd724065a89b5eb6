export interface Logger {
  debug(message: string, ...details: unknown[]): void;
  info(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
}

/** How much to log (HEARTH_LOG), least to most quiet. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

/** Logs to stderr so stdout stays clean for command output and --json. */
export function createConsoleLogger(level: LogLevel = 'info'): Logger {
  const at = (l: Exclude<LogLevel, 'silent'>) => (message: string, ...details: unknown[]) => {
    if (order[l] >= order[level]) console.error(`[hearth ${l}] ${message}`, ...details);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
