/**
 * The app's keyboard shortcuts, declared once: the key handler matches them and the Settings
 * screen lists them, so the list cannot drift from what the keys do. `mod` is Ctrl, or ⌘ on a Mac.
 */
interface ShortcutKeys {
  key: string;
  mod: boolean;
  shift: boolean;
  description: string;
}

/** What the app-wide key handler (App.svelte) does: it must handle every one of these. */
export type AppShortcutAction = 'newChat' | 'search' | 'settings';
/** Keys handled where they are pressed (the composer, a panel), listed for the reader. */
export type LocalShortcutAction = 'send' | 'newLine' | 'stop';
export type ShortcutAction = AppShortcutAction | LocalShortcutAction;

export type Shortcut = ShortcutKeys & ({ action: AppShortcutAction; local?: false } | { action: LocalShortcutAction; local: true });

export const SHORTCUTS: readonly Shortcut[] = [
  { action: 'newChat', key: 'O', mod: true, shift: true, description: 'New chat' },
  { action: 'search', key: 'K', mod: true, shift: false, description: 'Search all chats' },
  { action: 'settings', key: ',', mod: true, shift: false, description: 'Open Settings' },
  { action: 'send', key: 'Enter', mod: false, shift: false, description: 'Send the message', local: true },
  { action: 'newLine', key: 'Enter', mod: false, shift: true, description: 'New line in the message', local: true },
  { action: 'stop', key: 'Esc', mod: false, shift: false, description: 'Stop the reply, or close the open panel', local: true },
];

export function shortcutLabel(shortcut: Shortcut, mac: boolean): string {
  const parts = [...(shortcut.mod ? [mac ? '⌘' : 'Ctrl'] : []), ...(shortcut.shift ? [mac ? '⇧' : 'Shift'] : []), shortcut.key];
  return parts.join(mac ? '' : '+');
}

/** The app-wide action a key press asks for, if any. */
export function matchShortcut(
  event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'shiftKey' | 'altKey'>,
  mac: boolean,
): AppShortcutAction | null {
  const mod = mac ? event.metaKey : event.ctrlKey;
  // The other modifier (⌘ elsewhere, Ctrl on a Mac) is the system's or the browser's.
  if (event.altKey || (mac ? event.ctrlKey : event.metaKey)) return null;
  for (const shortcut of SHORTCUTS) {
    if (shortcut.local === true || shortcut.mod !== mod || shortcut.shift !== event.shiftKey) continue;
    if (event.key.toLowerCase() === shortcut.key.toLowerCase()) return shortcut.action;
  }
  return null;
}
