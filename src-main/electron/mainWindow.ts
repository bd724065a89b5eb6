import { BrowserWindow, shell } from 'electron';
import type { RendererOrigin } from './rendererOrigin';

export interface MainWindowOptions {
  preloadPath: string;
  renderer: RendererOrigin;
}

/**
 * The app window: an isolated, sandboxed renderer with no Node, which may show only the
 * app's own page. Links to the web open in the system browser; everything else is denied.
 */
export function createMainWindow({ preloadPath, renderer }: MainWindowOptions): BrowserWindow {
  const window = new BrowserWindow({
    width: 1200,
    height: 800,
    minWidth: 640,
    minHeight: 480,
    title: 'Hearth',
    show: false,
    backgroundColor: '#faf8f5',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: true,
    },
  });
  window.once('ready-to-show', () => window.show());

  const { webContents } = window;
  webContents.setWindowOpenHandler(({ url }) => {
    openInBrowser(url);
    return { action: 'deny' };
  });
  // Any frame, any initiator: the page stays the app's page (a reload of it is fine).
  webContents.on('will-frame-navigate', (event) => {
    if (renderer.isAppUrl(event.url)) return;
    event.preventDefault();
    if (event.isMainFrame) openInBrowser(event.url);
  });
  webContents.on('will-redirect', (event) => {
    if (!renderer.isAppUrl(event.url)) event.preventDefault();
  });
  webContents.on('will-attach-webview', (event) => event.preventDefault());

  if (renderer.devServerUrl !== null) void window.loadURL(renderer.devServerUrl);
  else void window.loadFile(renderer.indexPath);
  return window;
}

/** Only web links leave the app, and only to the user's browser. */
function openInBrowser(url: string): void {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    return;
  }
  if (protocol === 'https:' || protocol === 'http:') void shell.openExternal(url);
}
