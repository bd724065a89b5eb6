import { chmodSync, lstatSync, mkdirSync, readdirSync, type Dirent } from 'node:fs';
import { chmod, lstat, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '../common/logger';

/** Folders Hearth makes are the owner's alone; files are read and written by the owner alone. */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
/** The bits that let the group or other users in. */
const SHARED_BITS = 0o077;
const privateMode = (mode: number) => mode & 0o7777 & ~SHARED_BITS;

export interface PrivacyFix {
  folders: number;
  files: number;
}

/**
 * Keeps the data directory private: Hearth's chats, documents' text and index are readable by
 * no other user of the machine. The process umask is left alone (the desktop app shares its
 * process with Electron), so files are made private where Hearth creates them (SQLite files
 * are created 0600 and their WAL and SHM follow their mode) and, for what libraries create
 * (LanceDB, downloads, snapshot blocks), by a pass over the data directory at start and after
 * each job. Symbolic links are not followed: a folder the user linked in is not Hearth's.
 */
export class PrivateDataDir {
  private running: Promise<PrivacyFix> | null = null;
  private again = false;

  constructor(
    private readonly dataDir: string,
    private readonly logger: Logger,
    private readonly platform: NodeJS.Platform = process.platform,
  ) {}

  /**
   * Creates the data directory 0700 (its parents with the usual modes) and makes what is already
   * in it private, with one log line saying what changed. Synchronous: it runs before anything opens.
   */
  prepare(): PrivacyFix {
    mkdirSync(dirname(this.dataDir), { recursive: true });
    mkdirSync(this.dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
    if (this.platform === 'win32') return { folders: 0, files: 0 };
    const fix: PrivacyFix = { folders: 0, files: 0 };
    let refused: unknown = null;
    const walk = (path: string, isDir: boolean) => {
      let mode: number;
      try {
        mode = lstatSync(path).mode;
      } catch (error) {
        // Removed while walked (another process's in-use record, a job cleaning up): nothing to fix.
        if (isGone(error)) return;
        throw error;
      }
      if (mode & SHARED_BITS) {
        try {
          chmodSync(path, privateMode(mode));
          fix[isDir ? 'folders' : 'files']++;
        } catch (error) {
          // A read-only data directory still opens (to read or export it); it is said once below.
          if (!isGone(error)) refused ??= error;
        }
      }
      if (!isDir) return;
      let entries: Dirent[];
      try {
        entries = readdirSync(path, { withFileTypes: true });
      } catch (error) {
        if (isGone(error)) return;
        throw error;
      }
      for (const entry of entries) {
        if (entry.isDirectory() || entry.isFile()) walk(join(path, entry.name), entry.isDirectory());
      }
    };
    walk(this.dataDir, true);
    if (refused) this.logger.warn(`the data directory ${this.dataDir} is open to other users and could not be made private`, refused);
    if (fix.folders + fix.files > 0) {
      this.logger.info(
        `made the data directory ${this.dataDir} private: ${fix.folders} folder(s) and ${fix.files} file(s) were open to other users; folders are now 0700 and files 0600`,
      );
    }
    return fix;
  }

  /** Resolves when no pass is running (at quit: one started by a job's end finishes first). */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  /** Makes private what was created since the last pass; passes asked for meanwhile run once more after it. */
  settle(): Promise<PrivacyFix> {
    if (this.platform === 'win32') return Promise.resolve({ folders: 0, files: 0 });
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = (async () => {
      let total: PrivacyFix = { folders: 0, files: 0 };
      do {
        this.again = false;
        const fix = await this.pass();
        total = { folders: total.folders + fix.folders, files: total.files + fix.files };
      } while (this.again);
      if (total.folders + total.files > 0) this.logger.debug(`made ${total.folders} new folder(s) and ${total.files} new file(s) in the data directory private`);
      return total;
    })().finally(() => {
      this.running = null;
    });
    this.running = run;
    return run;
  }

  private async pass(): Promise<PrivacyFix> {
    const fix: PrivacyFix = { folders: 0, files: 0 };
    const walk = async (path: string, isDir: boolean): Promise<void> => {
      try {
        const { mode } = await lstat(path);
        if (mode & SHARED_BITS) {
          await chmod(path, privateMode(mode));
          fix[isDir ? 'folders' : 'files']++;
        }
        if (!isDir) return;
        for (const entry of await readdir(path, { withFileTypes: true })) {
          if (entry.isDirectory() || entry.isFile()) await walk(join(path, entry.name), entry.isDirectory());
        }
      } catch (error) {
        // A file removed while walked (LanceDB compacts, a job cleans up) needs no fixing.
        if (!isGone(error)) throw error;
      }
    };
    await walk(this.dataDir, true);
    return fix;
  }
}

/** A path removed between the listing that named it and its use: nothing left to make private. */
function isGone(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}
