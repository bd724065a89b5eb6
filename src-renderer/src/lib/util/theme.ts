/**
 * Light, dark or the system's choice. The preference belongs to this browser (or desktop
 * window), so it lives in localStorage, not in the core's settings: two browsers on one
 * Hearth may differ. The effective theme is set as <html data-theme> before the app mounts,
 * and follows the system live while the preference is "system".
 */
export const THEMES = ['system', 'light', 'dark'] as const;
export type ThemePreference = (typeof THEMES)[number];

const KEY = 'hearth.theme';
const DARK_QUERY = '(prefers-color-scheme: dark)';

export function readTheme(storage: Pick<Storage, 'getItem'> = localStorage): ThemePreference {
  let stored: string | null = null;
  try {
    stored = storage.getItem(KEY);
  } catch {
    // Storage disabled (a locked-down browser): the system's choice.
  }
  return THEMES.find((t) => t === stored) ?? 'system';
}

export function effectiveTheme(preference: ThemePreference, systemDark: boolean): 'light' | 'dark' {
  return preference === 'system' ? (systemDark ? 'dark' : 'light') : preference;
}

let unwatch: (() => void) | null = null;

/** Applies a preference now, keeps following the system while it is "system", and remembers it. */
export function applyTheme(preference: ThemePreference, remember = true): void {
  const query = window.matchMedia(DARK_QUERY);
  const set = () => document.documentElement.setAttribute('data-theme', effectiveTheme(preference, query.matches));
  set();
  unwatch?.();
  unwatch = null;
  if (preference === 'system') {
    query.addEventListener('change', set);
    unwatch = () => query.removeEventListener('change', set);
  }
  if (!remember) return;
  try {
    localStorage.setItem(KEY, preference);
  } catch {
    // Not remembered; it still applies to this page.
  }
}
