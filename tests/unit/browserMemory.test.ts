import { describe, expect, it } from 'vitest';
import { initialSidebarCollapsed, NARROW_WIDTH, recall, remember } from '../../src-renderer/src/lib/util/browserMemory';

describe('browser memory (sidebar state, dismissals)', () => {
  it('starts the sidebar collapsed below 900 px unless the user chose otherwise', () => {
    expect(initialSidebarCollapsed(null, NARROW_WIDTH - 1)).toBe(true);
    expect(initialSidebarCollapsed(null, NARROW_WIDTH)).toBe(false);
    expect(initialSidebarCollapsed('open', 800)).toBe(false);
    expect(initialSidebarCollapsed('collapsed', 1600)).toBe(true);
    expect(initialSidebarCollapsed('something else', 1600)).toBe(false);
  });

  it('reads and writes through storage, and a disabled storage neither throws nor remembers', () => {
    const map = new Map<string, string>();
    const storage = { getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v) };
    remember('hearth.sidebar', 'open', storage);
    expect(recall('hearth.sidebar', storage)).toBe('open');
    const locked = {
      getItem: (): string | null => {
        throw new Error('SecurityError');
      },
      setItem: (): void => {
        throw new Error('SecurityError');
      },
    };
    expect(() => remember('hearth.sidebar', 'open', locked)).not.toThrow();
    expect(recall('hearth.sidebar', locked)).toBeNull();
  });
});
