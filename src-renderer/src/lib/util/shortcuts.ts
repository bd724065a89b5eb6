/**
 * The app's keyboard shortcuts, declared once: the key handler matches them and the Settings
 * screen lists them, so the list cannot drift from what the keys do. `mod` is Ctrl, or ⌘ on a Mac.
 */
export interface Shortcut {
  action: ShortcutAction;
  key: string;
  mod: boolean;
  shift: boolean;
  description: string;
  /** Handled where the key is pressed (the composer, a panel), not by the app-wide handler. */
  local?: boolean;
}

export type ShortcutAction = 'newChat' | 'settings' | 'send' | 'newLine' | 'stop';

export const SHORTCUTS: readonly Shortcut[] = [
  { action: 'newChat', key: 'O', mod: true, shift: true, description: 'New chat' },
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
): ShortcutAction | null {
  const mod = mac ? event.metaKey : event.ctrlKey;
  if (event.altKey) return null;
  for (const shortcut of SHORTCUTS) {
    if (shortcut.local || shortcut.mod !== mod || shortcut.shift !== event.shiftKey) continue;
    if (event.key.toLowerCase() === shortcut.key.toLowerCase()) return shortcut.action;
  }
  return null;
}
