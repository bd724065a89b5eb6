import type { MessagePort } from 'node:worker_threads';

/**
 * How the main thread and the vault's crypto worker (cryptoThread.ts) talk: no messages per
 * block. A control SharedArrayBuffer holds a doorbell and one record per slot; a request is
 * written into its slot's record and the doorbell rung (Atomics.notify), the answer is written
 * back into the same record and its state word notified (the main thread waits on it with
 * Atomics.waitAsync). The bytes stay in SharedArrayBuffers ("regions") that each side sees
 * without a copy; a region is sent to the worker once, over `port`, before its first use.
 */

/** Int32 indexes in the control buffer. */
export const CONTROL = {
  /** Bumped (and notified) whenever a request is posted or the worker is asked to stop. */
  DOORBELL: 0,
  /** Non-zero: the worker leaves its loop. */
  STOP: 1,
  /** Set by the worker once its own code runs (its entry and imports loaded); never reset. */
  READY: 2,
  FIRST_SLOT: 16,
  SLOT_INTS: 32,
} as const;

/** Int32 offsets within a slot's record. */
export const FIELD = {
  STATE: 0,
  OP: 1,
  /** Posting order: the worker answers the oldest request first. */
  SEQ: 2,
  IN_REGION: 3,
  IN_OFFSET: 4,
  IN_LENGTH: 5,
  OUT_REGION: 6,
  OUT_CAPACITY: 7,
  /** Bytes written into the output region (sealed block, plaintext, or a UTF-8 reason). */
  RESULT_LENGTH: 8,
  /** 8 ints: the 32-byte digest (SHA-256 of a sealed block, keyed chunk id of a plaintext). */
  DIGEST: 16,
} as const;

export const STATE = {
  FREE: 0,
  POSTED: 1,
  DONE: 2,
  /** The block did not open (the output region holds the reason). */
  REFUSED: 3,
  /** The worker threw (the output region holds the message). */
  FAILED: 4,
  /** Set by the main thread when the worker is gone. */
  DEAD: 5,
} as const;

export const OP = {
  /** Seal a chunk's plaintext; digest = SHA-256 of the sealed bytes (the raw block's CID digest). */
  SEAL: 1,
  /** Open a sealed chunk; digest = HMAC-SHA-256 of the plaintext under the chunk-id key. */
  OPEN: 2,
} as const;

export interface CryptoWorkerData {
  control: SharedArrayBuffer;
  slots: number;
  port: MessagePort;
  dataKey: Uint8Array;
  chunkIdKey: Uint8Array;
}

/** A region sent to the worker (buffer null: forget it). */
export interface SharedRegion {
  id: number;
  buffer: SharedArrayBuffer | null;
}

export function slotBase(slot: number): number {
  return CONTROL.FIRST_SLOT + slot * CONTROL.SLOT_INTS;
}

export function controlLength(slots: number): number {
  return (CONTROL.FIRST_SLOT + slots * CONTROL.SLOT_INTS) * Int32Array.BYTES_PER_ELEMENT;
}
