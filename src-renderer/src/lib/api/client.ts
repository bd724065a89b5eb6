import type { HearthBridge } from '#contract/client';
import { WebSocketBridge, type ConnectionMonitor, type ConnectionState } from './webSocketBridge';

export type { ConnectionMonitor, ConnectionState };
export type { HearthBridge };

declare global {
  interface Window {
    /** Set by the Electron preload; absent in the browser build. */
    hearth?: HearthBridge;
  }
}

export interface HearthClient {
  bridge: HearthBridge;
  connection: ConnectionMonitor;
  transport: 'ipc' | 'websocket';
}

/** IPC cannot drop while the window lives, so the desktop connection is always open. */
const alwaysOpen: ConnectionMonitor = {
  state: 'open',
  subscribe(listener) {
    listener('open');
    return () => undefined;
  },
};

/**
 * The renderer's one way to the core, and the only place that touches window.hearth:
 * the preload's bridge in the desktop app, otherwise the same contract over the local
 * server's WebSocket (authenticated by the cookie the server set with the page).
 */
export function createHearthClient(): HearthClient {
  const preload = window.hearth;
  if (preload) return { bridge: preload, connection: alwaysOpen, transport: 'ipc' };

  dropTokenFromUrl();
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const bridge = new WebSocketBridge(`${scheme}://${location.host}/ws`);
  return { bridge, connection: bridge, transport: 'websocket' };
}

/**
 * The server trades ?token= for an HttpOnly cookie when it serves the page; removing the
 * token from the address bar keeps it out of history, bookmarks and screenshots.
 */
function dropTokenFromUrl(): void {
  const url = new URL(location.href);
  if (!url.searchParams.has('token')) return;
  url.searchParams.delete('token');
  history.replaceState(history.state, '', url.pathname + url.search + url.hash);
}
