import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { GpuSetting } from '../core/inference/llamaRuntime';
import { UsageError } from './usageError';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Options every command that opens the library takes. */
export const coreOptions = {
  'data-dir': { type: 'string' },
  'models-dir': { type: 'string', multiple: true },
  gpu: { type: 'string' },
  threads: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

/** node:util parseArgs, strict, with its errors turned into usage errors for `command`. */
export function commandArgs<O extends Options>(command: string, args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('ERR_PARSE_ARGS')) throw new UsageError((error as Error).message, command);
    throw error;
  }
}

const GPU_SETTINGS: readonly GpuSetting[] = ['auto', 'off', 'cuda', 'vulkan', 'metal'];

export function parseGpu(value: string | undefined, command: string): GpuSetting | undefined {
  if (value === undefined) return undefined;
  const gpu = GPU_SETTINGS.find((setting) => setting === value.toLowerCase());
  if (!gpu) throw new UsageError(`--gpu must be one of ${GPU_SETTINGS.join(', ')}, not "${value}"`, command);
  return gpu;
}

/** A whole number within [min, max] given as an option value, or undefined when absent. */
export function parseInteger(
  value: string | undefined,
  flag: string,
  command: string,
  { min, max }: { min: number; max: number },
): number | undefined {
  if (value === undefined) return undefined;
  const number = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, not "${value}"`, command);
  }
  return number;
}
