import { randomUUID } from 'node:crypto';
import { readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CID } from 'multiformats/cid';
import { HearthError } from '../common/hearthError';
import type { LocalBlockStore } from './localBlockStore';
import { decodeList, decodeRoot, verifyBlock } from './snapshotFormat';
import type { VaultRepository } from './vaultRepository';

/**
 * What a crash can leave in the vault folder, and how it is found and reclaimed. Every vault
 * operation that writes there runs under the vault lock (vaultLock.ts), so whoever holds the
 * lock knows that nothing else is writing: anything not accounted for is a leftover.
 * - `capture/<pid>-<id>/`: each snapshot captures into a folder of its own (so two processes
 *   never delete each other's copies) and removes it when it ends, recorded or failed; one
 *   that is there when the lock is taken belongs to a snapshot that was killed.
 * - blocks no recorded snapshot (nor the dedup index) names: written by a killed snapshot
 *   (blocks are recorded only with their snapshot, in one transaction) or left by a retention
 *   killed between forgetting snapshots and deleting their blocks; found by reachability.
 * - a local copy of a block the vault records as held by a target only (keepModelBlocks off):
 *   a publish killed between recording that and deleting the copy.
 * - `.tmp` files in blocks/: a block write killed before its rename.
 * - `outbox/`: the CAR of a publish that was killed.
 * The next snapshot reclaims all of it when it finds a leftover capture folder (the mark of a
 * killed snapshot); `hearth vault gc` reclaims it at any time; `hearth vault check` reports it.
 */

export interface VaultCheckProblem {
  snapshot: string;
  block: string;
  problem: string;
}

export interface VaultCheckReport {
  snapshots: number;
  /** Distinct blocks the recorded snapshots reference, each read and hashed. */
  blocksChecked: number;
  /** Blocks a recorded snapshot needs that are missing or do not match their CID or format. */
  problems: VaultCheckProblem[];
  /** Blocks on disk that no recorded snapshot references, or that a target holds for this machine (gc deletes them). */
  orphans: { count: number; bytes: number };
  /** Unfinished block writes (gc deletes them). */
  tempFiles: { count: number; bytes: number };
  /** Capture folders and outbox files of killed snapshots and publishes (gc deletes them). */
  leftovers: string[];
  ok: boolean;
}

export interface VaultGcReport {
  orphans: { count: number; bytes: number };
  tempFiles: { count: number; bytes: number };
  leftovers: string[];
}

export interface MaintenanceDeps {
  vaultDir: string;
  repo: VaultRepository;
  blocks: LocalBlockStore;
}

export function captureRoot(vaultDir: string): string {
  return join(vaultDir, 'capture');
}

/** A capture folder of this process's own, named by pid and a random id. */
export function newCaptureDir(vaultDir: string): string {
  return join(captureRoot(vaultDir), `${process.pid}-${randomUUID().slice(0, 8)}`);
}

/**
 * Verifies every recorded snapshot: each block it references is there, hashes to its CID, and
 * the root and its lists decode and name only recorded blocks. Reports, without changing
 * anything, what gc would reclaim. Call it under the vault lock.
 */
export async function checkVault(deps: MaintenanceDeps): Promise<VaultCheckReport> {
  const problems: VaultCheckProblem[] = [];
  const verdicts = new Map<string, string | null>();
  const snapshots = deps.repo.snapshots();
  const remote = deps.repo.remoteBlocks();
  for (const snapshot of snapshots) {
    const recorded = new Set(deps.repo.snapshotBlocks(snapshot.cid));
    const report = (block: string, problem: string) => problems.push({ snapshot: snapshot.cid, block, problem });
    for (const block of recorded) {
      // A block a target holds in this machine's place (published model blocks) is not kept here.
      if (remote.has(block) && !(await deps.blocks.has(block))) continue;
      if (!verdicts.has(block)) verdicts.set(block, await blockProblem(deps.blocks, block));
      const problem = verdicts.get(block);
      if (problem) report(block, problem);
    }
    if (!recorded.has(snapshot.cid)) report(snapshot.cid, 'the root is not among the recorded blocks');
    else if (!verdicts.get(snapshot.cid)) {
      for (const [block, problem] of await structureProblems(deps.blocks, snapshot.cid, recorded)) report(block, problem);
    }
  }
  const found = await findReclaimable(deps);
  return {
    snapshots: snapshots.length,
    blocksChecked: verdicts.size,
    problems,
    orphans: sum(found.orphans),
    tempFiles: sum(found.temps),
    leftovers: found.leftovers,
    ok: problems.length === 0,
  };
}

/** Deletes what no recorded snapshot needs: orphan blocks, temp files, leftover captures and CARs. Call it under the vault lock. */
export async function collectGarbage(deps: MaintenanceDeps, keepCapture: string | null = null): Promise<VaultGcReport> {
  const found = await findReclaimable(deps, keepCapture);
  for (const file of [...found.orphans, ...found.temps]) await rm(file.path, { force: true });
  for (const path of found.leftovers) await rm(path, { recursive: true, force: true });
  return { orphans: sum(found.orphans), tempFiles: sum(found.temps), leftovers: found.leftovers };
}

/** Removes a snapshot's capture folder, and the capture root when nothing else is in it. */
export async function removeCaptureDir(vaultDir: string, dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await rmdir(captureRoot(vaultDir)).catch(() => undefined);
}

/** Whether a killed snapshot left its capture folder (other than `own`): the next one then runs gc first. */
export async function killedSnapshotLeftovers(vaultDir: string, own: string): Promise<boolean> {
  const names = await readdir(captureRoot(vaultDir)).catch(() => [] as string[]);
  return names.some((name) => join(captureRoot(vaultDir), name) !== own);
}

interface Reclaimable {
  orphans: { path: string; size: number }[];
  temps: { path: string; size: number }[];
  leftovers: string[];
}

async function findReclaimable(deps: MaintenanceDeps, keepCapture: string | null = null): Promise<Reclaimable> {
  const referenced = deps.repo.referencedBlocks();
  const remote = deps.repo.remoteBlocks();
  const files = await deps.blocks.listFiles();
  const orphans = files.filter((f) => !f.temp && (!referenced.has(f.name) || remote.has(f.name)));
  const temps = files.filter((f) => f.temp);
  const leftovers: string[] = [];
  for (const folder of [captureRoot(deps.vaultDir), join(deps.vaultDir, 'outbox')]) {
    for (const name of await readdir(folder).catch(() => [] as string[])) {
      const path = join(folder, name);
      if (path !== keepCapture) leftovers.push(path);
    }
  }
  return { orphans, temps, leftovers: leftovers.sort() };
}

async function blockProblem(blocks: LocalBlockStore, block: string): Promise<string | null> {
  let cid: CID;
  try {
    cid = CID.parse(block);
  } catch {
    return 'not a CID';
  }
  try {
    await verifyBlock(cid, await blocks.get(cid));
    return null;
  } catch (error) {
    if (error instanceof HearthError && error.code === 'NOT_FOUND') return 'missing';
    if (error instanceof HearthError) return error.code === 'INTEGRITY_ERROR' ? 'does not match its CID' : error.message;
    throw error;
  }
}

/** The root decodes, and it and its lists name only blocks recorded for the snapshot. */
async function structureProblems(blocks: LocalBlockStore, root: string, recorded: ReadonlySet<string>): Promise<[string, string][]> {
  const out: [string, string][] = [];
  try {
    const node = decodeRoot(await blocks.get(CID.parse(root)), `Snapshot ${root}`);
    for (const cid of node.manifest) if (!recorded.has(cid.toString())) out.push([cid.toString(), 'a manifest block the root names is not recorded']);
    for (const list of node.lists) {
      if (!recorded.has(list.toString())) {
        out.push([list.toString(), 'a list block the root names is not recorded']);
        continue;
      }
      for (const cid of decodeList(await blocks.get(list), `List ${list}`)) {
        if (!recorded.has(cid.toString())) out.push([cid.toString(), 'a chunk block a list names is not recorded']);
      }
    }
  } catch (error) {
    if (!(error instanceof HearthError)) throw error;
    out.push([root, error.message]);
  }
  return out;
}

function sum(files: { size: number }[]): { count: number; bytes: number } {
  return { count: files.length, bytes: files.reduce((total, f) => total + f.size, 0) };
}
