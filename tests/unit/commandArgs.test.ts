import { describe, expect, it } from 'vitest';
import { commandArgs, coreOptions, parseGpu, parseInteger } from '../../src-main/cli/commandArgs';
import { backendLine, formatBytes, table } from '../../src-main/cli/format';
import { UsageError } from '../../src-main/cli/usageError';

describe('command-line parsing', () => {
  it('parses the shared options and repeats --models-dir', () => {
    const { values, positionals } = commandArgs('serve', ['--models-dir', 'a', '--models-dir=b', '--gpu', 'off', 'x'], coreOptions);
    expect(values['models-dir']).toEqual(['a', 'b']);
    expect(values.gpu).toBe('off');
    expect(positionals).toEqual(['x']);
  });

  it('turns unknown options into usage errors naming the command', () => {
    expect(() => commandArgs('models ls', ['--nope'], coreOptions)).toThrow(UsageError);
    try {
      commandArgs('models ls', ['--nope'], coreOptions);
    } catch (error) {
      expect((error as UsageError).command).toBe('models ls');
    }
  });

  it('checks --gpu and numbers', () => {
    expect(parseGpu(undefined, 'chat')).toBeUndefined();
    expect(parseGpu('CUDA', 'chat')).toBe('cuda');
    expect(() => parseGpu('tpu', 'chat')).toThrow(/--gpu must be one of auto, off, cuda, vulkan, metal/);
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
