import type { CID } from 'multiformats/cid';
import type { VaultTargetKind } from '#contract/dto';

/**
 * The vault's shared vocabulary. A snapshot is a set of content-addressed blocks:
 *
 * - chunk blocks: raw (codec 0x55) blocks, each one content-defined chunk of a file, padded
 *   and sealed with XChaCha20-Poly1305 under the vault's data key; a pack block is sealed the
 *   same way and holds several small files, each referenced by offset and length;
 * - manifest blocks: raw blocks holding the sealed, signed manifest (split when large);
 * - list blocks: dag-cbor maps of chunk-block CIDs and a random salt, so the root's DAG is
 *   complete (an IPFS node that pins the root pins every block) and no two snapshots share one;
 * - the root: a dag-cbor map (SnapshotRoot) whose CID names the snapshot.
 *
 * Only the root and list blocks are readable by an observer, and they hold nothing but CIDs,
 * the format tag, random salt and the data key wrapped (encrypted) anew for each root.
 */

/** A block as it travels: bytes and the CID they must hash to. */
export interface Block {
  cid: CID;
  bytes: Uint8Array;
}

/** The public root block (dag-cbor). */
export interface SnapshotRoot {
  /** Format tag: 'hearth-snapshot/2' (or '/1', read for restore only). */
  format: string;
  /** The vault's data key, sealed under the wallet-derived key-wrapping key with a nonce of its own. */
  wrappedKey: Uint8Array;
  /** The sealed manifest, in order: concatenated, they are one sealed envelope. */
  manifest: CID[];
  /** dag-cbor list blocks, each an array of chunk-block CIDs. */
  lists: CID[];
}

/** One chunk of a file, as the (encrypted) manifest records it. */
export interface ManifestChunk {
  /** CID of the sealed chunk block. */
  cid: string;
  /** Plaintext length of the chunk. */
  size: number;
  /** Keyed hash of the plaintext (hex): finds unchanged chunks without decrypting. */
  id: string;
  /**
   * Where the chunk starts in the block's plaintext, for a slice of a pack block (small files
   * packed together, manifest format /2); absent: the chunk is the whole block.
   */
  offset?: number;
}

export interface ManifestFile {
  /** Path inside the snapshot, '/'-separated, relative, never '..' (checked on restore). */
  path: string;
  size: number;
  /**
   * sha256 of the whole plaintext file (hex), in manifests /1 and /2 only. From /3 the file's
   * digest is its chunk list (each chunk's keyed SHA-256 id and size, in order), which a
   * restore checks chunk by chunk: a second hash of every byte added no check.
   */
  sha256?: string;
  /** Unix permission bits. */
  mode: number;
  chunks: ManifestChunk[];
}

/** What a snapshot holds; encrypted and signed, never published in the clear. */
export interface SnapshotManifest {
  /** /1: every chunk is a whole block; /2: a chunk may be a slice of a pack block; /3: no whole-file sha256. */
  format: 'hearth-manifest/1' | 'hearth-manifest/2' | 'hearth-manifest/3';
  createdAt: string;
  appVersion: string;
  /** The wallet address that signed it (checksummed). */
  address: string;
  /** CID of the previous snapshot of this vault, or null for the first. */
  previous: string | null;
  options: SnapshotOptions;
  files: ManifestFile[];
  /** Row counts per SQLite table and LanceDB table at capture, checked after restore. */
  counts: { sqlite: Record<string, number>; lance: Record<string, number> };
}

export interface SnapshotOptions {
  /** Copy downloaded models (large). */
  includeModels: boolean;
  /** Copy the source documents of the library (outside the data directory). */
  includeDocuments: boolean;
}

/**
 * Where blocks come from on restore. `get` returns the bytes the source claims are the block;
 * the caller verifies them against the CID (never trust a source).
 */
export interface BlockFetcher {
  readonly description: string;
  /**
   * `into`: a buffer the caller lends for the bytes: a fetcher that reads from a file may return
   * a view of it when it is large enough (valid until the caller reuses it); others ignore it.
   */
  get(cid: CID, options?: { signal?: AbortSignal; into?: Uint8Array }): Promise<Uint8Array>;
}

/** A CAR file ready to publish: one root (the snapshot), the blocks the target lacks. */
export interface CarFile {
  path: string;
  root: CID;
  size: number;
}

export interface PublishResult {
  /** Where the CAR went, for people: a file path, an API URL, a space DID. */
  location: string;
}

export interface StreamedCar extends PublishResult {
  /** Bytes of the CAR written. */
  carBytes: number;
}

/**
 * A CAR being written into a target (PublishTarget.openCarStream): blocks go in as they come
 * (append copies a block's bytes before it returns), finish() names the root, flushes the file
 * and renames it into place; abort() deletes it. Until finish() returns, nothing in the target
 * names it: a killed run leaves a temp file the target's next publish deletes.
 */
export interface CarStream {
  append(block: Block): Promise<void>;
  has(cid: string): boolean;
  /** A block appended earlier, read back. */
  read(cid: string): Promise<Uint8Array>;
  finish(root: CID): Promise<StreamedCar>;
  abort(): Promise<void>;
}

export interface PublishProgress {
  signal?: AbortSignal;
  onProgress?: (sentBytes: number, totalBytes: number) => void;
}

/** Something a target holds, by root CID; `at` when the target knows when it arrived. */
export interface TargetUpload {
  root: string;
  at: string | null;
}

/**
 * A place snapshots are published to and restored from: a folder, an IPFS node (Kubo RPC),
 * web3.storage / Storacha. One interface, so the snapshot and restore code never branches on
 * the kind: what a kind can do is declared in targets/targetRegistry.ts, and a method for a
 * capability the kind lacks rejects with UNSUPPORTED.
 */
export interface PublishTarget {
  readonly kind: VaultTargetKind;
  publish(car: CarFile, options?: PublishProgress): Promise<PublishResult>;
  /**
   * Writes the CAR straight into the target as the blocks come (capability `streamsCar`), so
   * publishing keeps no local copy of it; `totalBytes` (the blocks' bytes) drives progress.
   * A block's bytes may be a reused buffer: be done with them before asking for the next block.
   */
  publishStream(root: CID, blocks: AsyncIterable<Block>, options?: PublishProgress & { totalBytes?: number }): Promise<StreamedCar>;
  /**
   * A CAR written into the target while a snapshot is sealed, before its root is known
   * (capability `streamsCar`): a snapshot published in the same command writes each block
   * there as it is sealed instead of reading it back from this machine afterwards.
   */
  openCarStream(options?: { signal?: AbortSignal }): Promise<CarStream>;
  /** Blocks for restore. */
  fetcher(): BlockFetcher;
  /**
   * Stores a small opaque record under a name, replacing the previous one; null from
   * readPointer when none (capability `latestPointer`). With `expected` (the bytes the writer
   * read, null for none) the write is refused with BUSY when the record there is no longer
   * that one: a folder compares under a lock file, an IPFS node just before it writes.
   */
  writePointer(name: string, record: Uint8Array, options?: { signal?: AbortSignal; expected?: Uint8Array | null }): Promise<void>;
  readPointer(name: string, options?: { signal?: AbortSignal }): Promise<Uint8Array | null>;
  /** What the target holds, including what other machines published there, newest first where known (capability `listUploads`). */
  listUploads(options?: { signal?: AbortSignal }): Promise<TargetUpload[]>;
}
