import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { callChannel, callNames, eventChannel, eventNames } from '#contract/index';
import type { Result } from '#contract/errors';
import type { Core } from '../core/createCore';
import type { Dispatch } from '../core/rpc/dispatcher';
import type { RendererOrigin } from './rendererOrigin';

const UNAUTHORIZED: Result<never> = {
  ok: false,
  error: { code: 'UNAUTHORIZED', message: 'Only the Hearth window may call Hearth.' },
};

/**
 * Carries the contract over Electron IPC: one handler per call, each answering only the
 * app window's top frame showing the app's own page, and every call going through the
 * dispatcher (which validates the input). Events go to that window. Returns an undo.
 */
export function registerIpc(
  dispatch: Dispatch,
  events: Core['events'],
  window: () => BrowserWindow | null,
  renderer: RendererOrigin,
): () => void {
  const trusted = (event: IpcMainInvokeEvent): boolean => {
    const win = window();
    if (!win || win.isDestroyed() || event.sender !== win.webContents) return false;
    const frame = event.senderFrame;
    const main = win.webContents.mainFrame;
    return (
      frame !== null &&
      frame.processId === main.processId &&
      frame.routingId === main.routingId &&
      renderer.isAppUrl(frame.url)
    );
  };

  for (const name of callNames) {
    ipcMain.handle(callChannel(name), (event, input: unknown) => (trusted(event) ? dispatch(name, input) : UNAUTHORIZED));
  }

  const unsubscribes = eventNames.map((name) =>
    events.on(name, (payload) => {
      const win = window();
      if (!win || win.isDestroyed() || !renderer.isAppUrl(win.webContents.getURL())) return;
      win.webContents.send(eventChannel(name), payload);
    }),
  );

  return () => {
    for (const name of callNames) ipcMain.removeHandler(callChannel(name));
    for (const unsubscribe of unsubscribes) unsubscribe();
  };
}
