import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Where Hearth keeps everything: --data-dir, else HEARTH_DATA_DIR, else the OS's app-data
 * folder. The desktop app, the server and the CLI resolve it the same way, so they share one
 * library. Reads the environment only because it is handed in (composition roots pass it).
 */
export function resolveDataDir(
  explicit: string | undefined,
  env: Record<string, string | undefined>,
  platform: NodeJS.Platform = process.platform,
): string {
  if (explicit) return resolve(explicit);
  if (env.HEARTH_DATA_DIR) return resolve(env.HEARTH_DATA_DIR);
  const home = homedir();
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Hearth');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Hearth');
  return join(env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'hearth');
}

/** The fixed layout inside the data directory. */
export function dataLayout(dataDir: string) {
  return {
    database: join(dataDir, 'hearth.db'),
    models: join(dataDir, 'models'),
    /** Partial downloads; on the same file system as models/, so finishing is a rename. */
    downloads: join(dataDir, 'downloads'),
    /** LanceDB tables of document chunks, one per embedding model. */
    index: join(dataDir, 'index'),
    /** The network ledger: every request that left (or tried to leave) the machine. Not in snapshots. */
    networkLedger: join(dataDir, 'network', 'ledger.db'),
  };
}
