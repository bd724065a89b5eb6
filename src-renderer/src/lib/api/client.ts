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
 * server's WebSocket (authenticated by the session cookie the server set for this page).
 */
export function createHearthClient(): HearthClient {
  const preload = window.hearth;
  if (preload) return { bridge: preload, connection: alwaysOpen, transport: 'ipc' };

  const bridge = new WebSocketBridge(webSocketUrl(location.href));
  return { bridge, connection: bridge, transport: 'websocket' };
}

/**
 * The server's WebSocket, beside the page: the page lives under the server's session prefix
 * (/s/<scope>/), and the session cookie is sent only below it, so the socket must be too.
 */
export function webSocketUrl(pageUrl: string): string {
  const url = new URL('ws', pageUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = '';
  url.hash = '';
  return url.href;
}
