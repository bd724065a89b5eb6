import { randomUUID } from 'node:crypto';
import { link, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileError } from './fsErrors';
import { HearthError } from './hearthError';
import { currentOwner, describeOwner, livenessOf, processOwnerSchema, type ProcessOwner } from './processOwner';

/**
 * A lock between processes: a file whose existence is the lock and whose content names the
 * owner (pid, host, the pid's start time, purpose, since). It is created whole or not at all
 * (written to a temp file, then hard-linked to its name, which fails if the name exists), so
 * a reader never sees half an owner.
 *
 * The stale-lock rule: a lock whose owner is on this host and no longer runs (its pid is gone,
 * or now names a process started at another time) is taken over. Breaking it is itself
 * guarded (a `.break` file made the same way), so two waiters that both find it stale cannot
 * both take it, and it is removed only if it still holds the very owner found stale. A lock
 * from another host (a data directory on a shared drive) is never broken: its owner cannot be
 * seen from here; the message names the file to delete if that host no longer runs Hearth.
 * A lock file that is not an owner record at all (not written by this module) counts as stale.
 */

export interface LockOptions {
  /** What the holder does, for the messages of those who wait: "vault snapshot". */
  purpose: string;
  /** How long to wait for a held lock before failing with LOCK_HELD; 0 fails at once. */
  waitMs: number;
  signal?: AbortSignal;
  /** Called once when the lock is held by someone else and this call starts waiting. */
  onWait?: (holder: ProcessOwner) => void;
}

export interface HeldLock {
  readonly path: string;
  readonly owner: ProcessOwner;
  /** Removes the lock if it is still this holder's; safe to call twice. */
  release(): Promise<void>;
}

/** A `.break` file older than this was left by a breaker that died during its few microseconds of breaking. */
const BREAK_STALE_MS = 10_000;
const FIRST_POLL_MS = 20;
const MAX_POLL_MS = 250;

/** Takes the lock at `path`, waiting up to `waitMs` while a live owner holds it. */
export async function acquireLock(path: string, options: LockOptions): Promise<HeldLock> {
  await mkdir(dirname(path), { recursive: true }).catch((error: unknown) => {
    throw fileError(error, dirname(path));
  });
  const owner = currentOwner(options.purpose);
  const deadline = Date.now() + options.waitMs;
  let poll = FIRST_POLL_MS;
  let told = false;
  for (;;) {
    options.signal?.throwIfAborted();
    if (await createExclusive(path, owner)) {
      await removeDeadTemps(path);
      return heldLock(path, owner);
    }
    const found = await readLock(path);
    if (found === null) continue; // released between our try and our read
    if (isStale(found)) {
      if (await breakStale(path, found.raw)) continue;
    } else if (found.owner) {
      if (Date.now() >= deadline) throw lockHeldError(path, found.owner, options);
      if (!told) options.onWait?.(found.owner);
      told = true;
    }
    await sleep(poll, undefined, { signal: options.signal });
    poll = Math.min(poll * 2, MAX_POLL_MS);
  }
}

/** Runs fn while holding the lock; releases it however fn ends. */
export async function withLock<T>(path: string, options: LockOptions, fn: (lock: HeldLock) => Promise<T>): Promise<T> {
  const lock = await acquireLock(path, options);
  try {
    return await fn(lock);
  } finally {
    await lock.release();
  }
}

export interface LockState {
  /** The owner record; null when the file is not one (it counts as stale). */
  owner: ProcessOwner | null;
  /** Whether the stale-lock rule would take it over now. */
  stale: boolean;
}

/** Who holds the lock at `path` (null when nobody does), and whether the stale-lock rule applies. */
export async function inspectLock(path: string): Promise<LockState | null> {
  const found = await readLock(path);
  return found === null ? null : { owner: found.owner, stale: isStale(found) };
}

interface FoundLock {
  raw: string;
  owner: ProcessOwner | null;
}

function isStale(found: FoundLock): boolean {
  return found.owner === null || livenessOf(found.owner) === 'dead';
}

async function readLock(path: string): Promise<FoundLock | null> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  return { raw, owner: parseOwner(raw) };
}

function parseOwner(raw: string): ProcessOwner | null {
  try {
    const parsed = processOwnerSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Temp files are `<lock name>.<pid>.<random>.tmp`, so leftovers of a killed process can be told apart. */
function tempName(path: string): string {
  return `${path}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
}

/** Creates `path` holding the owner, whole, unless it exists (then false). */
async function createExclusive(path: string, owner: ProcessOwner): Promise<boolean> {
  const temp = tempName(path);
  try {
    await writeFile(temp, JSON.stringify(owner), { mode: 0o600 });
    await link(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw fileError(error, path); // a full disk is DISK_FULL, as everywhere else
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * Removes the lock if it still holds exactly `seenRaw` (the stale owner), under the `.break`
 * guard. False when another process is breaking it right now (the caller waits a moment).
 */
async function breakStale(path: string, seenRaw: string): Promise<boolean> {
  const guard = `${path}.break`;
  const breaker = currentOwner('breaking a stale lock');
  if (!(await createExclusive(guard, breaker))) {
    const age = await stat(guard).then(
      (info) => Date.now() - info.mtimeMs,
      () => 0,
    );
    if (age > BREAK_STALE_MS) await rm(guard, { force: true });
    return false;
  }
  try {
    const now = await readLock(path);
    if (now !== null && now.raw === seenRaw) await rm(path, { force: true });
    return true;
  } finally {
    await rm(guard, { force: true });
  }
}

/** Temp files of processes that died between writing one and linking it. */
async function removeDeadTemps(path: string): Promise<void> {
  const prefix = `${basename(path)}.`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    const match = name.startsWith(prefix) ? /^(\d+)\.[0-9a-f]{8}\.tmp$/.exec(name.slice(prefix.length)) : null;
    if (match && livenessOf({ pid: Number(match[1]), hostname: currentOwner('').hostname, processStart: null }) === 'dead') {
      await rm(join(dirname(path), name), { force: true });
    }
  }
}

function heldLock(path: string, owner: ProcessOwner): HeldLock {
  let released = false;
  return {
    path,
    owner,
    async release() {
      if (released) return;
      released = true;
      const found = await readLock(path);
      if (found?.owner?.token === owner.token) await rm(path, { force: true });
    },
  };
}

function lockHeldError(path: string, holder: ProcessOwner, options: LockOptions): HearthError {
  const waited = options.waitMs > 0 ? ` and did not finish within ${Math.round(options.waitMs / 1000)} s` : '';
  const foreign =
    livenessOf(holder) === 'unknown'
      ? ` It runs on another host, which this one cannot check; if Hearth no longer runs there, delete ${path}.`
      : ' Try again when it has finished.';
  return new HearthError('LOCK_HELD', `${options.purpose} must wait: ${describeOwner(holder)} holds ${path}${waited}.${foreign}`);
}
