import type { FSWatcher, watch as chokidarWatch } from 'chokidar';
import { basename } from 'node:path';
import type { Logger } from '../common/logger';
import { isIgnoredName } from './folderScanner';

/**
 * Watches folder sources and says, once a burst of changes has settled, which source changed.
 * The rescan that follows compares sizes, times and content hashes, so an event that changed
 * nothing costs a directory listing and no embedding. Symbolic links are not followed here
 * (the scan follows them): changes inside a linked folder are picked up by the next rescan.
 */
export class FolderWatcher {
  /** Each source's watcher: started once chokidar has loaded (at the first add), closed by remove. */
  private readonly watchers = new Map<string, Promise<FSWatcher | null>>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly debounceMs: number,
    private readonly onChange: (sourceId: string) => void,
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.watchers.size;
  }

  has(sourceId: string): boolean {
    return this.watchers.has(sourceId);
  }

  add(sourceId: string, folder: string): void {
    if (this.watchers.has(sourceId)) return;
    // chokidar loads at the first watch (about 0.05 s of CPU that a command which watches nothing never pays).
    const started = loadChokidar().then(
      ({ watch }) => {
        if (this.watchers.get(sourceId) !== started) return null; // removed meanwhile
        const watcher = watch(folder, {
          ignoreInitial: true,
          followSymlinks: false,
          ignored: (path) => path !== folder && isIgnoredName(basename(path)),
          // Editors write in steps; wait for the file to stop growing before reading it.
          awaitWriteFinish: { stabilityThreshold: 200, pollInterval: 50 },
        });
        watcher.on('all', () => this.schedule(sourceId));
        watcher.on('error', (error) => this.logger.warn(`watching ${folder} failed`, error));
        return watcher;
      },
      (error: unknown) => {
        this.logger.warn(`watching ${folder} failed`, error);
        return null;
      },
    );
    this.watchers.set(sourceId, started);
  }

  async remove(sourceId: string): Promise<void> {
    const timer = this.timers.get(sourceId);
    if (timer) clearTimeout(timer);
    this.timers.delete(sourceId);
    const started = this.watchers.get(sourceId);
    this.watchers.delete(sourceId);
    await (await started)?.close();
  }

  async close(): Promise<void> {
    await Promise.all([...this.watchers.keys()].map((id) => this.remove(id)));
  }

  private schedule(sourceId: string): void {
    const existing = this.timers.get(sourceId);
    if (existing) clearTimeout(existing);
    const timer = setTimeout(() => {
      this.timers.delete(sourceId);
      this.onChange(sourceId);
    }, this.debounceMs);
    timer.unref?.();
    this.timers.set(sourceId, timer);
  }
}

let chokidar: Promise<{ watch: typeof chokidarWatch }> | null = null;

function loadChokidar(): Promise<{ watch: typeof chokidarWatch }> {
  chokidar ??= import('chokidar');
  return chokidar;
}
