/**
 * Small per-browser memories (the sidebar's state, dismissed warnings): they belong to this
 * browser or desktop window, like the theme, so they live in localStorage. Storage can be
 * disabled (a locked-down browser): reads then give null and writes are dropped, and the
 * choice still holds for this page.
 */
export function recall(key: string, storage: Pick<Storage, 'getItem'> = localStorage): string | null {
  try {
    return storage.getItem(key);
  } catch {
    return null;
  }
}

export function remember(key: string, value: string, storage: Pick<Storage, 'setItem'> = localStorage): void {
  try {
    storage.setItem(key, value);
  } catch {
    // Not remembered; it still applies to this page.
  }
}

/** Below this width the sidebar starts collapsed unless the user chose otherwise. */
export const NARROW_WIDTH = 900;

/** Whether the sidebar starts collapsed: the user's last choice, else collapsed on a narrow window. */
export function initialSidebarCollapsed(stored: string | null, width: number): boolean {
  if (stored === 'collapsed') return true;
  if (stored === 'open') return false;
  return width < NARROW_WIDTH;
}
