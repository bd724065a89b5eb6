import type { HDNodeWallet } from 'ethers';
import type { ErrorCode } from '#contract/errors';
import { HearthError } from '../common/hearthError';
import { newestSnapshotIn, snapshotTakenAt } from './newestSnapshot';
import { compareSeen, PointerLedger, type SeenPointer } from './pointerLedger';
import { openPointer, sealPointer, type SnapshotPointer } from './snapshotFormat';
import { capabilitiesOf } from './targets/targetRegistry';
import type { BlockFetcher, PublishTarget } from './types';
import { deriveVaultKeys } from './vaultKeys';

/**
 * The signed "latest snapshot" record a target with the `latestPointer` capability keeps, under
 * a name derived from the wallet: a new machine finds the newest snapshot from the phrase alone.
 *
 * Its sequence only grows: a writer reads the record there, writes one past both it and what
 * this machine has seen, and the target refuses the write if the record changed in between
 * (read-compare-write; see PublishTarget.writePointer). A reader refuses a record older than
 * one this machine has seen there, or than a newer snapshot of the wallet the target holds
 * (STALE_POINTER): an old record copied back cannot silently roll a restore back.
 */

/** What opening a record that is damaged or not this wallet's fails with. */
const UNREADABLE_RECORD = new Set<ErrorCode>(['CORRUPT_FILE', 'INTEGRITY_ERROR', 'SIGNATURE_INVALID']);
/** How often a pointer write is tried again when another writer got in between. */
const WRITE_ATTEMPTS = 5;

interface PointerOnTarget {
  /** The record, or null when the bytes there do not open as this wallet's record. */
  pointer: SnapshotPointer | null;
  bytes: Uint8Array;
}

async function readRecord(target: PublishTarget, wallet: HDNodeWallet, signal?: AbortSignal): Promise<PointerOnTarget | null> {
  const keys = deriveVaultKeys(wallet.privateKey);
  const bytes = await target.readPointer(keys.pointerName, { signal });
  if (!bytes) return null;
  try {
    return { pointer: await openPointer(keys.pointerKey, bytes, wallet.address), bytes };
  } catch (error) {
    // Damaged or foreign bytes under the name: a writer replaces them (a reader reports them).
    if (error instanceof HearthError && UNREADABLE_RECORD.has(error.code)) return { pointer: null, bytes };
    throw error;
  }
}

async function writeRecord(
  target: PublishTarget,
  wallet: HDNodeWallet,
  pointer: SnapshotPointer,
  expected: Uint8Array | null,
  signal?: AbortSignal,
): Promise<void> {
  const keys = deriveVaultKeys(wallet.privateKey);
  const record = await sealPointer(keys.pointerKey, wallet, pointer);
  await target.writePointer(keys.pointerName, record, { signal, expected });
}

/** Writes the record with this sequence, unless the target holds one as new or newer (STALE_POINTER). */
export async function writeLatestPointer(
  target: PublishTarget,
  wallet: HDNodeWallet,
  pointer: { root: string; sequence: number },
  signal?: AbortSignal,
): Promise<void> {
  const current = await readRecord(target, wallet, signal);
  if (current?.pointer && current.pointer.sequence >= pointer.sequence) {
    throw new HearthError(
      'STALE_POINTER',
      `The latest-snapshot record there already has sequence ${current.pointer.sequence} (snapshot ${current.pointer.root}); a record with sequence ${pointer.sequence} would replace a newer one, so it was not written.`,
    );
  }
  await writeRecord(target, wallet, { ...pointer, createdAt: new Date().toISOString() }, current?.bytes ?? null, signal);
}

/**
 * Names root as the latest snapshot: one past both the target's record and what this machine
 * has seen there; nothing is written when the record names root already. Tried again when
 * another machine wrote in between (the target refused with BUSY). Returns the record there.
 */
export async function advanceLatestPointer(
  target: PublishTarget,
  wallet: HDNodeWallet,
  root: string,
  options: { seen?: SeenPointer | null; signal?: AbortSignal } = {},
): Promise<SnapshotPointer> {
  for (let attempt = 1; ; attempt++) {
    const current = await readRecord(target, wallet, options.signal);
    const floor = Math.max(current?.pointer?.sequence ?? 0, options.seen?.sequence ?? 0);
    if (current?.pointer && current.pointer.root === root && current.pointer.sequence >= floor) return current.pointer;
    const pointer: SnapshotPointer = { root, sequence: floor + 1, createdAt: new Date().toISOString() };
    try {
      await writeRecord(target, wallet, pointer, current?.bytes ?? null, options.signal);
      return pointer;
    } catch (error) {
      if (!(error instanceof HearthError && error.code === 'BUSY') || attempt >= WRITE_ATTEMPTS) throw error;
    }
  }
}

/** The root the target's signed latest-snapshot record names; BAD_INPUT for a source that keeps none. */
export async function latestFromPointer(target: PublishTarget | null, wallet: HDNodeWallet, signal?: AbortSignal): Promise<string> {
  return (await resolveLatest(target, wallet, { signal })).root;
}

/**
 * The target's latest-snapshot record, checked: not older than `seen` (what this machine saw
 * there last), and, given the target's fetcher and a target that lists what it holds, naming
 * the newest snapshot of this wallet there (by the signed time in each manifest). Either
 * failing is STALE_POINTER, naming the CIDs to restore on purpose with --cid.
 */
export async function resolveLatest(
  target: PublishTarget | null,
  wallet: HDNodeWallet,
  options: { seen?: SeenPointer | null; fetcher?: BlockFetcher; signal?: AbortSignal } = {},
): Promise<SnapshotPointer> {
  if (!target || !capabilitiesOf(target.kind).latestPointer) {
    throw new HearthError('BAD_INPUT', 'This source keeps no record of the latest snapshot: give the snapshot CID.');
  }
  const keys = deriveVaultKeys(wallet.privateKey);
  const record = await target.readPointer(keys.pointerName, { signal: options.signal });
  if (!record) throw new HearthError('NOT_FOUND', `No snapshot of wallet ${wallet.address} has been published there yet.`);
  const pointer = await openPointer(keys.pointerKey, record, wallet.address);
  const { seen } = options;
  if (seen && (compareSeen(pointer, seen) < 0 || (pointer.sequence === seen.sequence && pointer.root !== seen.root))) {
    throw new HearthError(
      'STALE_POINTER',
      `The latest-snapshot record there names snapshot ${pointer.root} (sequence ${pointer.sequence}, written ${pointer.createdAt}), ` +
        `but this machine has already seen sequence ${seen.sequence} there, naming ${seen.root} (written ${seen.createdAt}): an older record was put back. ` +
        `Restore that one by its CID (--cid ${seen.root}), or the older one on purpose (--cid ${pointer.root}).`,
    );
  }
  if (options.fetcher && capabilitiesOf(target.kind).listUploads) {
    const newest = await newestSnapshotIn(target, options.fetcher, wallet, options.signal);
    if (newest && newest.root !== pointer.root) {
      const pointed = await snapshotTakenAt(options.fetcher, wallet, pointer.root, options.signal);
      if (pointed === null || newest.takenAt > pointed) {
        throw new HearthError(
          'STALE_POINTER',
          `The latest-snapshot record there names snapshot ${pointer.root} (${pointed === null ? 'which cannot be read there' : `taken ${new Date(pointed).toISOString()}`}), ` +
            `but the target holds a newer snapshot of this wallet, ${newest.root} (taken ${new Date(newest.takenAt).toISOString()}): the record is out of date, or an older one was put back. ` +
            `Restore the newest by its CID (--cid ${newest.root}), or the older one on purpose (--cid ${pointer.root}).`,
        );
      }
    }
  }
  return pointer;
}

/** A target as the ledger names it: its kind and its place (folder path, RPC URL). */
export interface TargetPlace {
  kind: string;
  location: string;
}

/**
 * This machine's side of the latest-snapshot records: advances them on publish and checks them
 * on restore, remembering what it saw on each target (PointerLedger). Without a ledger (a
 * restore on a machine with no library) only the check against the target's newest snapshot runs.
 */
export class LatestPointers {
  constructor(private readonly ledger: PointerLedger | null) {}

  async publish(target: PublishTarget, wallet: HDNodeWallet, place: TargetPlace, root: string, signal?: AbortSignal): Promise<SnapshotPointer> {
    const key = this.key(wallet, place);
    const written = await advanceLatestPointer(target, wallet, root, { seen: key ? this.ledger?.seen(key) : null, signal });
    if (key) this.ledger?.record(key, written);
    return written;
  }

  /** The checked record (resolveLatest); `place` null for a source the ledger does not track. */
  async resolve(
    target: PublishTarget | null,
    wallet: HDNodeWallet,
    place: TargetPlace | null,
    fetcher: BlockFetcher,
    signal?: AbortSignal,
  ): Promise<SnapshotPointer> {
    const key = place ? this.key(wallet, place) : null;
    const pointer = await resolveLatest(target, wallet, { seen: key ? this.ledger?.seen(key) : null, fetcher, signal });
    if (key) this.ledger?.record(key, pointer);
    return pointer;
  }

  private key(wallet: HDNodeWallet, place: TargetPlace): string | null {
    return this.ledger ? PointerLedger.key(deriveVaultKeys(wallet.privateKey).pointerName, place.kind, place.location) : null;
  }
}
