import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { HearthError } from '../common/hearthError';
import { currentOwner, describeOwner, livenessOf, processOwnerSchema, type ProcessOwner } from '../common/processOwner';

/** Where the locks of a data directory live: `locks/vault.lock` and one `locks/in-use/*.json` per open core. */
export function locksDir(dataDir: string): string {
  return join(dataDir, 'locks');
}

function inUseDir(dataDir: string): string {
  return join(locksDir(dataDir), 'in-use');
}

export interface DataDirHold {
  readonly owner: ProcessOwner;
  /** Removes this process's record; safe to call twice. */
  release(): void;
}

/**
 * Records that this process has the data directory open (the app, `hearth serve`, a CLI
 * command), for as long as it does: one file per open core under `locks/in-use/`, named by pid
 * and a random id and holding the owner (pid, host, the pid's start time, purpose). Shared:
 * any number of holders may have the directory open at once (the app and a CLI command do);
 * what the record is for is the restore, which refuses a directory that any live holder has
 * open. A record whose pid has died (kill -9, a crash) is stale and removed by whoever reads it.
 */
export function holdDataDir(dataDir: string, purpose: string): DataDirHold {
  const dir = inUseDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const owner = currentOwner(purpose);
  const file = join(dir, `${owner.pid}-${owner.token.slice(0, 8)}.json`);
  // Written whole under a temp name, then renamed: a reader never sees half a record.
  const temp = `${file}.${randomUUID().slice(0, 8)}.tmp`;
  writeFileSync(temp, JSON.stringify(owner), { mode: 0o600 });
  renameSync(temp, file);
  let released = false;
  return {
    owner,
    release() {
      if (released) return;
      released = true;
      rmSync(file, { force: true });
    },
  };
}

/** The live processes that have the data directory open (stale records are removed on the way). */
export function dataDirHolders(dataDir: string): ProcessOwner[] {
  const dir = inUseDir(dataDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const live: ProcessOwner[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if (name.endsWith('.tmp')) {
      const pid = Number(name.split('-')[0]);
      if (Number.isInteger(pid) && pid > 0 && livenessOf({ pid, hostname: currentOwner('').hostname, processStart: null }) === 'dead') rmSync(path, { force: true });
      continue;
    }
    const owner = readRecord(path);
    if (owner === null || livenessOf(owner) === 'dead') {
      rmSync(path, { force: true });
      continue;
    }
    live.push(owner);
  }
  return live;
}

/** DATA_DIR_IN_USE when a live Hearth process has the data directory open; `action` says what was refused. */
export function assertDataDirFree(dataDir: string, action: string): void {
  const holders = dataDirHolders(dataDir);
  if (holders.length === 0) return;
  const who = holders.map(describeOwner).join(', ');
  throw new HearthError(
    'DATA_DIR_IN_USE',
    `${action}: ${dataDir} is open in a running Hearth (${who}). Stop it first, or choose another folder. ` +
      `(A holder on another host is listed in ${inUseDir(dataDir)}; delete its file if Hearth no longer runs there.)`,
  );
}

/** The record's owner; null when it is gone (released while listed) or is not a record (never half-written: it is renamed into place). */
function readRecord(path: string): ProcessOwner | null {
  try {
    const parsed = processOwnerSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
