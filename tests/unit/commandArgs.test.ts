import { describe, expect, it } from 'vitest';
import { defineCommand } from '../../src-main/cli/declare/commandSpec';
import { parseInteger } from '../../src-main/cli/declare/options';
import { optionalArg } from '../../src-main/cli/declare/positionals';
import { parseCommand } from '../../src-main/cli/declare/parse';
import { backendLine, formatBytes, table } from '../../src-main/cli/format';
import { coreOptions, inferenceOptions } from '../../src-main/cli/sharedOptions';
import { UsageError } from '../../src-main/cli/usageError';

const withCoreOptions = defineCommand({
  name: 'serve',
  summary: '',
  description: '',
  options: coreOptions,
  positionals: { what: optionalArg('WHAT', '') },
  run: async () => 0,
});

describe('command-line parsing', () => {
  it('parses the shared options and repeats --models-dir', () => {
    const input = parseCommand(withCoreOptions, 'serve', ['--models-dir', 'a', '--models-dir=b', '--gpu', 'off', 'x'], {});
    if (input === 'help') throw new Error('not help');
    expect(input.options['models-dir']).toEqual(['a', 'b']);
    expect(input.options.gpu).toBe('off');
    expect(input.args.what).toBe('x');
  });

  it('turns unknown options into usage errors naming the command', () => {
    expect(() => parseCommand(withCoreOptions, 'models ls', ['--nope'], {})).toThrow(UsageError);
    try {
      parseCommand(withCoreOptions, 'models ls', ['--nope'], {});
    } catch (error) {
      expect((error as UsageError).command).toBe('models ls');
    }
  });

  it('checks --gpu and numbers', () => {
    const gpu = (raws: string[]) => inferenceOptions.gpu.read(raws, '--gpu', 'chat');
    expect(gpu([])).toBe('auto');
    expect(gpu(['CUDA'])).toBe('cuda');
    expect(() => gpu(['tpu'])).toThrow(/--gpu must be one of auto, off, cuda, vulkan, metal/);
    expect(parseInteger('12', '--threads', 'chat', { min: 1, max: 64 })).toBe(12);
    for (const bad of ['0', '-1', '1.5', 'abc', '', '65', '1e3']) {
      expect(() => parseInteger(bad, '--threads', 'chat', { min: 1, max: 64 }), bad).toThrow(UsageError);
    }
  });
});

describe('command-line output', () => {
  it('warns about an unexpected CPU fallback', () => {
    expect(backendLine({ backend: 'cpu', reason: 'CPU: no GPU found', warning: true, gpuDevices: [] })).toBe('WARNING: CPU: no GPU found');
    expect(backendLine({ backend: 'cuda', reason: 'CUDA: H100', warning: false, gpuDevices: ['H100'] })).toBe('Inference: CUDA: H100');
  });

  it('formats sizes and tables', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1_234_567)).toBe('1.2 MB');
    expect(table([['ID', 'NAME'], ['abc', 'x']])).toBe('ID   NAME\nabc  x');
  });
});
