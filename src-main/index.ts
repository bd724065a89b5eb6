import { app, dialog, type BrowserWindow } from 'electron';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GPU_SETTINGS } from '#contract/vocabulary';
import { DESKTOP_API_PORT } from '#contract/limits';
import { LocalApiHost } from './cli/api/localApiHost';
import { createConsoleLogger } from './core/common/logger';
import { createCore, type Core } from './core/createCore';
import { resolveDataDir } from './core/ports/dataDir';
import { createDispatcher } from './core/rpc/dispatcher';
import { createHandlers } from './core/rpc/handlers';
import { applyAppSecurity } from './electron/appSecurity';
import { ElectronDialogs } from './electron/electronDialogs';
import { registerIpc } from './electron/ipc';
import { createMainWindow } from './electron/mainWindow';
import { RendererOrigin } from './electron/rendererOrigin';
import { RelaunchHostControl } from './electron/relaunchHostControl';
import { SafeStorageSecretStore } from './electron/safeStorageSecretStore';
import { FileSecretStore } from './core/ports/secretStore';

/**
 * The desktop app's composition root: reads configuration once (environment, switches),
 * builds the core and wires it to the window over IPC. All product logic lives in the core.
 */

const logger = createConsoleLogger('info');
if (process.env.HEARTH_GPU && !GPU_SETTINGS.some((s) => s === process.env.HEARTH_GPU)) {
  logger.warn(`HEARTH_GPU=${process.env.HEARTH_GPU} is not one of ${GPU_SETTINGS.join(', ')}; using auto`);
}

// ipull can leave a rejected promise behind when a download connection fails mid-transfer;
// the download is already reported, so log it rather than crash the app.
process.on('unhandledRejection', (reason) => logger.warn('unhandled rejection', reason));

// Every renderer sandboxed, even ones a future change forgets to configure.
app.enableSandbox();

// One app instance per library: two would write the same SQLite files and fight over the GPU.
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  void app.whenReady().then(start, (error: unknown) => fail(error));
}

function start(): void {
  // LanceDB's Rust side warns on every query at its default level; keep the log for real problems.
  process.env.LANCE_LOG ??= 'error';
  process.env.LANCEDB_LOG ??= 'error';
  const devServerUrl = !app.isPackaged ? (process.env.ELECTRON_RENDERER_URL ?? null) : null;
  const renderer = new RendererOrigin(fileURLToPath(new URL('../renderer/index.html', import.meta.url)), devServerUrl);
  const preloadPath = fileURLToPath(new URL('../preload/index.cjs', import.meta.url));
  applyAppSecurity({ devServer: devServerUrl !== null });

  let window: BrowserWindow | null = null;
  let core: Core;
  try {
    // The same resolution as the server and the CLI, so all three share one library.
    const dataDir = resolveDataDir(app.commandLine.getSwitchValue('data-dir') || undefined, process.env);
    core = createCore(
      {
        dataDir,
        gpu: GPU_SETTINGS.find((setting) => setting === process.env.HEARTH_GPU) ?? 'auto',
        host: 'desktop',
        version: app.getVersion(),
        sqliteNativeBinding: electronSqliteBinding(),
        catalogPath: join(app.getAppPath(), 'models', 'catalog.json'),
        // Bundled by electron-vite beside this file (out/main/parseWorker.js).
        parseWorkerPath: fileURLToPath(new URL('./parseWorker.js', import.meta.url)),
      },
      {
        dialogs: new ElectronDialogs(() => window),
        logger,
        // The OS keychain keeps tokens and a remembered vault passphrase.
        secrets: SafeStorageSecretStore.create(dataDir, new FileSecretStore(dataDir), logger),
        host: new RelaunchHostControl(),
      },
    );
  } catch (error) {
    fail(error);
    return;
  }

  // The local API follows its setting: started now if it is on, and again after each change.
  const localApi = new LocalApiHost(core, DESKTOP_API_PORT);
  const dispatch = createDispatcher(createHandlers(core), logger);
  const unregister = registerIpc(
    async (name, input) => {
      const result = await dispatch(name, input);
      if (name === 'settings.update' && result.ok) void localApi.apply();
      return result;
    },
    core.events,
    () => window,
    renderer,
  );
  void localApi.apply();
  const openWindow = () => {
    window = createMainWindow({ preloadPath, renderer });
    window.on('closed', () => (window = null));
  };
  openWindow();

  app.on('second-instance', () => {
    if (!window) return openWindow();
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  app.on('activate', () => {
    if (!window) openWindow();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  // Quit waits for the core: replies stop, jobs record their state, the database closes.
  let disposed = false;
  let disposing = false;
  app.on('will-quit', (event) => {
    if (disposed) return;
    event.preventDefault();
    if (disposing) return;
    disposing = true;
    unregister();
    localApi
      .close()
      .then(() => core.dispose())
      .catch((error: unknown) => logger.error('shutdown failed', error))
      .finally(() => {
        disposed = true;
        app.quit();
      });
  });
}

/**
 * better-sqlite3 built for Electron's ABI, when the desktop build has provided one (see the
 * README); tests and the CLI keep the Node build in node_modules.
 */
function electronSqliteBinding(): string | undefined {
  const path = join(app.getAppPath(), 'native', 'electron', 'better_sqlite3.node');
  // A packaged app keeps native code beside its archive (electron-builder.yml: asarUnpack).
  const unpacked = path.replace(/\bapp\.asar(?=[\\/])/, 'app.asar.unpacked');
  if (app.isPackaged && existsSync(unpacked)) return unpacked;
  return existsSync(path) ? path : undefined;
}

function fail(error: unknown): void {
  logger.error('Hearth could not start', error);
  const message = error instanceof Error ? error.message : String(error);
  dialog.showErrorBox('Hearth could not start', message);
  app.exit(1);
}
