import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';

/**
 * Who holds a lock or a data directory: a process named by host, pid and the kernel's start
 * time of that pid (so a pid the OS gave to a new process after the owner died is not taken
 * for the owner), plus what it does, since when, and a random token that tells two holdings
 * by the same process apart.
 */
export interface ProcessOwner {
  pid: number;
  hostname: string;
  /** The kernel's start time of the pid (Linux: /proc/PID/stat field 22, in clock ticks since boot); null where unknown. */
  processStart: string | null;
  /** What the owner is doing, for people: "vault snapshot", "hearth serve". */
  purpose: string;
  /** When it took the lock (ms since the epoch). */
  since: number;
  token: string;
}

export const processOwnerSchema = z.object({
  pid: z.number().int().positive(),
  hostname: z.string(),
  processStart: z.string().nullable(),
  purpose: z.string(),
  since: z.number(),
  token: z.string().min(1),
});

/**
 * alive: the owner runs (or may: the pid exists and we may not signal it);
 * dead: the pid is gone from this host, or it now names another process;
 * unknown: the owner is on another host, whose processes this one cannot see.
 */
export type Liveness = 'alive' | 'dead' | 'unknown';

const thisHost = hostname();
const ownStart = processStartOf(process.pid);

/** This process, as the owner of something it is about to hold. */
export function currentOwner(purpose: string): ProcessOwner {
  return { pid: process.pid, hostname: thisHost, processStart: ownStart, purpose, since: Date.now(), token: randomUUID() };
}

/** Whether the owner still runs, as far as this host can tell. */
export function livenessOf(owner: Pick<ProcessOwner, 'pid' | 'hostname' | 'processStart'>): Liveness {
  if (owner.hostname !== thisHost) return 'unknown';
  if (owner.pid === process.pid) return owner.processStart === ownStart ? 'alive' : 'dead';
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the pid exists but belongs to another user; it may be the owner.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return 'dead';
  }
  if (owner.processStart === null) return 'alive';
  const start = processStartOf(owner.pid);
  // A pid whose start time differs is a new process that reused the number.
  return start === null || start === owner.processStart ? 'alive' : 'dead';
}

/** The owner in a few words, for messages: "pid 4242 (vault snapshot, since 14:02:11)". */
export function describeOwner(owner: ProcessOwner): string {
  const since = new Date(owner.since).toISOString().slice(11, 19);
  const host = owner.hostname === thisHost ? '' : ` on ${owner.hostname}`;
  return `pid ${owner.pid}${host} (${owner.purpose}, since ${since} UTC)`;
}

/** The start time of a pid in clock ticks since boot (Linux), or null where /proc does not say. */
function processStartOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}
