/** Vault: wallet identity, encrypted snapshots, publish targets, restore. */

import type { SecretKeeper, VaultState, VaultTargetKind } from '../vocabulary';

export interface VaultTarget {
  id: string;
  kind: VaultTargetKind;
  name: string;
  /** A folder path, an IPFS node's RPC URL, or a web3.storage space DID. */
  location: string;
  /** Whether the target keeps a "latest snapshot" record a new machine can find from the phrase alone. */
  keepsPointer: boolean;
  createdAt: number;
}

export interface VaultSchedule {
  /** Hours between automatic snapshots; null: manual only. */
  intervalHours: number | null;
  /** Where automatic snapshots are published; null: kept on this machine only. */
  targetId: string | null;
  /** How many snapshots this machine keeps (older ones are forgotten and their unshared blocks deleted). */
  keep: number;
  includeModels: boolean;
  includeDocuments: boolean;
  /**
   * Keep the sealed blocks of models in vault/blocks once a target holds them. Off: they are
   * deleted from this machine after each publish (the models themselves stay) and fetched from
   * that target when needed (a restore, publishing them elsewhere).
   */
  keepModelBlocks: boolean;
}

export interface VaultPublication {
  targetId: string;
  targetName: string;
  kind: VaultTargetKind;
  location: string;
  /** Size of the CAR sent: only the blocks that target did not have yet. */
  carBytes: number;
  publishedAt: number;
}

export interface VaultSnapshot {
  /** The root CID: the snapshot's name everywhere. */
  cid: string;
  createdAt: number;
  previous: string | null;
  files: number;
  /** Plaintext bytes captured. */
  bytes: number;
  /** Encrypted bytes of every block the snapshot references. */
  storedBytes: number;
  /** Encrypted bytes this snapshot added (blocks no earlier snapshot had). */
  newBytes: number;
  /**
   * Plaintext bytes read from disk to take it: files unchanged since the previous snapshot
   * (size, mtime, inode, ctime) are skipped, so this follows the change, not the data.
   */
  readBytes: number;
  includeModels: boolean;
  includeDocuments: boolean;
  publications: VaultPublication[];
}

export interface VaultStatus {
  /** none: no wallet yet; locked: a keystore, passphrase needed; unlocked: ready to snapshot. */
  state: VaultState;
  address: string | null;
  /** The passphrase is kept in the host's secret store, so the vault unlocks at start. */
  remembered: boolean;
  /**
   * Where "remember" keeps the passphrase on this host: the OS keychain, or (no keychain here)
   * the data directory, where anyone who can copy the directory can recover it.
   */
  rememberKeptIn: SecretKeeper;
  schedule: VaultSchedule;
  /** When the scheduler will next snapshot, or null. */
  nextSnapshotAt: number | null;
  lastSnapshot: VaultSnapshot | null;
}

export interface VaultCreated {
  address: string;
  /** The 12-word recovery phrase: shown once, here, to write down. */
  phrase: string;
}
