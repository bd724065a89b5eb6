import { describe, expect, it } from 'vitest';
import { formatBytes } from '#contract/format';

describe('formatBytes (the one byte formatter of the UI, the CLI and the core)', () => {
  it('counts bytes as they are', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
  });

  it('uses decimal units, as labelled, with one decimal', () => {
    expect(formatBytes(1000)).toBe('1.0 KB');
    expect(formatBytes(1_234_567)).toBe('1.2 MB');
    expect(formatBytes(1_185_376)).toBe('1.2 MB');
    expect(formatBytes(870_000)).toBe('870.0 KB');
    expect(formatBytes(25_600_000)).toBe('25.6 MB');
    expect(formatBytes(4_368_439_584)).toBe('4.4 GB');
    expect(formatBytes(3.5e12)).toBe('3.5 TB');
    expect(formatBytes(1e18)).toBe('1000000.0 TB'); // the largest unit keeps counting
  });

  it('never shows 1000.0 of a unit when rounding carries over to the next', () => {
    expect(formatBytes(999_940)).toBe('999.9 KB');
    expect(formatBytes(999_960)).toBe('1.0 MB');
    expect(formatBytes(999_960_000_000_000)).toBe('1000.0 TB');
  });
});
