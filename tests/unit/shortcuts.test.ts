import { describe, expect, it } from 'vitest';
import { matchShortcut, SHORTCUTS, shortcutLabel, type Shortcut } from '../../src-renderer/src/lib/util/shortcuts';

/** The key press a listed label describes, read back from the label itself ("Ctrl+Shift+O", "⌘K"). */
function pressFromLabel(label: string, mac: boolean) {
  const parts = mac ? [...label.matchAll(/⌘|⇧|[^⌘⇧]+/g)].map((m) => m[0]) : label.split('+');
  const key = parts.at(-1) ?? '';
  const mods = new Set(parts.slice(0, -1));
  return {
    key: key.length === 1 ? key.toLowerCase() : key,
    ctrlKey: !mac && mods.has('Ctrl'),
    metaKey: mac && mods.has('⌘'),
    shiftKey: mods.has(mac ? '⇧' : 'Shift'),
    altKey: false,
  };
}

const appWide = SHORTCUTS.filter((s): s is Shortcut & { local?: false } => s.local !== true);

describe('the listed keyboard shortcuts are the ones the key handler uses', () => {
  it('lists new chat, search and settings as app-wide shortcuts', () => {
    expect(appWide.map((s) => [s.action, shortcutLabel(s, false), shortcutLabel(s, true)])).toEqual([
      ['newChat', 'Ctrl+Shift+O', '⌘⇧O'],
      ['search', 'Ctrl+K', '⌘K'],
      ['settings', 'Ctrl+,', '⌘,'],
    ]);
  });

  for (const mac of [false, true]) {
    it(`pressing each app-wide shortcut as listed (${mac ? 'Mac' : 'Linux and Windows'}) asks for its own action`, () => {
      for (const shortcut of appWide) {
        expect(matchShortcut(pressFromLabel(shortcutLabel(shortcut, mac), mac), mac), shortcutLabel(shortcut, mac)).toBe(shortcut.action);
      }
    });
  }

  it('gives no two shortcuts the same keys', () => {
    const keys = SHORTCUTS.map((s) => `${s.mod}|${s.shift}|${s.key.toLowerCase()}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('leaves the keys handled where they are pressed to their place, and the other modifier to the system', () => {
    for (const shortcut of SHORTCUTS.filter((s) => s.local === true)) {
      expect(matchShortcut(pressFromLabel(shortcutLabel(shortcut, false), false), false)).toBeNull();
    }
    // Ctrl+K on a Mac, ⌘K (the Windows key) elsewhere, and with Alt are not the search shortcut.
    const k = { key: 'k', ctrlKey: false, metaKey: false, shiftKey: false, altKey: false };
    expect(matchShortcut({ ...k, ctrlKey: true }, false)).toBe('search');
    expect(matchShortcut({ ...k, ctrlKey: true }, true)).toBeNull();
    expect(matchShortcut({ ...k, metaKey: true }, false)).toBeNull();
    expect(matchShortcut({ ...k, ctrlKey: true, altKey: true }, false)).toBeNull();
    expect(matchShortcut({ ...k, ctrlKey: true, shiftKey: true }, false)).toBeNull();
  });
});
