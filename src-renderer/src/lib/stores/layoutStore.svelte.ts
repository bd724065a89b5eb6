import { initialSidebarCollapsed, recall, remember } from '../util/browserMemory';

const SIDEBAR_KEY = 'hearth.sidebar';
const DISMISSED_KEY = 'hearth.dismissed.';

/**
 * What this browser remembers about the layout: whether the sidebar is collapsed (below 900 px
 * it starts collapsed) and which warnings were dismissed (a warning with the same text stays
 * dismissed across screens and reloads; a different one shows again).
 */
export class LayoutStore {
  sidebarCollapsed = $state(initialSidebarCollapsed(recall(SIDEBAR_KEY), window.innerWidth));
  #dismissed = $state<Record<string, string | null>>({});

  toggleSidebar(): void {
    this.sidebarCollapsed = !this.sidebarCollapsed;
    remember(SIDEBAR_KEY, this.sidebarCollapsed ? 'collapsed' : 'open');
  }

  /** Opens the sidebar if it is collapsed (a shortcut needs what it holds). */
  showSidebar(): void {
    if (this.sidebarCollapsed) this.toggleSidebar();
  }

  /** Whether the warning `kind` with this text was dismissed in this browser. */
  isDismissed(kind: string, text: string): boolean {
    const value = kind in this.#dismissed ? this.#dismissed[kind] : recall(DISMISSED_KEY + kind);
    return value === text;
  }

  dismiss(kind: string, text: string): void {
    this.#dismissed = { ...this.#dismissed, [kind]: text };
    remember(DISMISSED_KEY + kind, text);
  }
}

export const layout = new LayoutStore();
