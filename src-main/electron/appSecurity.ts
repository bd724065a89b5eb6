import { app, session } from 'electron';
import { CONTENT_SECURITY_POLICY } from '../cli/securityHeaders';

/**
 * Process-wide hardening, applied once before any window exists: every permission is
 * denied (Hearth needs none), every page gets the strict CSP as a header too (the meta tag
 * cannot set frame-ancestors, and a header cannot be removed by page content), and any
 * web contents created later inherit the same refusals.
 */
export function applyAppSecurity({ devServer }: { devServer: boolean }): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);
  ses.setDisplayMediaRequestHandler((_request, callback) => callback({}));
  ses.on('will-download', (event) => event.preventDefault());

  // The dev server injects styles at run time, which the strict policy forbids; the page's
  // meta tag still applies there. Built pages always get the header.
  if (!devServer) {
    ses.webRequest.onHeadersReceived((details, callback) => {
      const headers = Object.fromEntries(
        Object.entries(details.responseHeaders ?? {}).filter(([name]) => name.toLowerCase() !== 'content-security-policy'),
      );
      callback({ responseHeaders: { ...headers, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
    });
  }

  app.on('web-contents-created', (_event, contents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
}
