import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { CID } from 'multiformats/cid';
import type { CarAppender } from '../carAppender';
import { syncDirectory } from '../carFile';
import type { Block, CarStream, StreamedCar } from '../types';

/** A temp file no process of this machine is writing, and untouched this long, is a dead writer's. */
const STALE_TEMP_MS = 24 * 60 * 60 * 1000;
const TEMP_NAME = /^([0-9a-f]{8})-(\d+)-[0-9a-f]+\.incoming(\.part)?$/;

let machineTag: string | undefined;

/** Names this machine in temp file names (hostname and machine id, hashed): a dead writer here is recognised by its pid. */
function thisMachine(): string {
  if (machineTag === undefined) {
    let machineId = '';
    try {
      machineId = readFileSync('/etc/machine-id', 'utf8').trim();
    } catch {
      // Not Linux, or no machine id: the host name alone.
    }
    machineTag = createHash('sha256').update(`${hostname()}\n${machineId}`).digest('hex').slice(0, 8);
  }
  return machineTag;
}

/** A CAR's name while it is written into the folder: `<machine>-<pid>-<random>.incoming`. */
export function incomingName(): string {
  return `${thisMachine()}-${process.pid}-${randomBytes(6).toString('hex')}.incoming`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes CARs left half-written in the folder by a killed publish: those this machine's dead
 * processes were writing (recognised by machine and pid in the name), and any temp file nobody
 * has touched for a day (another machine's, or an older Hearth's). A folder may be shared by
 * several machines, so another machine's recent temp file is left alone. Best effort.
 */
export async function sweepIncoming(carsDir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(carsDir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.endsWith('.incoming') && !name.endsWith('.part')) continue;
    const path = join(carsDir, name);
    const mine = TEMP_NAME.exec(name);
    let dead = mine !== null && mine[1] === thisMachine() && Number(mine[2]) !== process.pid && !alive(Number(mine[2]));
    if (!dead) dead = await stat(path).then((s) => Date.now() - s.mtimeMs > STALE_TEMP_MS, () => false);
    if (dead && (await rm(path, { force: true }).then(() => true, () => false))) removed++;
  }
  return removed;
}

/** What the folder lends a stream: the free `<root>[-n].car` name, and its error mapping. */
export interface FolderPlaces {
  carsDir: string;
  freeName(root: CID): Promise<string>;
  error(error: unknown, path: string): unknown;
}

/** A CAR written into a folder target as a snapshot is sealed, renamed to `<root>.car` once finished and flushed. */
export class FolderCarStream implements CarStream {
  private finished = false;

  constructor(
    private readonly car: CarAppender,
    private readonly folder: FolderPlaces,
  ) {}

  async append(block: Block): Promise<void> {
    try {
      await this.car.append(block);
    } catch (error) {
      throw this.folder.error(error, this.car.path);
    }
  }

  has(cid: string): boolean {
    return this.car.has(cid);
  }

  async read(cid: string): Promise<Uint8Array> {
    try {
      return await this.car.read(cid);
    } catch (error) {
      throw this.folder.error(error, this.car.path);
    }
  }

  async finish(root: CID): Promise<StreamedCar> {
    try {
      const carBytes = await this.car.finish(root);
      const destination = await this.folder.freeName(root);
      await rename(this.car.path, destination);
      await syncDirectory(this.folder.carsDir);
      this.finished = true;
      return { location: destination, carBytes };
    } catch (error) {
      await this.car.abort();
      throw this.folder.error(error, this.car.path);
    }
  }

  /** Deletes the partial CAR; a finished one is in place and stays. */
  async abort(): Promise<void> {
    if (!this.finished) await this.car.abort();
  }
}
