import { createHash, createHmac } from 'node:crypto';
import { sealChunk, tryOpenChunk } from './blockCipher';
import { FIELD, OP, STATE, slotBase } from './cryptoProtocol';
import { copyBytes } from './sharedBytes';

/** What answering a request needs: the control buffer (as words and bytes), the keys, the regions by id. */
export interface RequestContext {
  control: Int32Array;
  controlBytes: Uint8Array;
  dataKey: Uint8Array;
  chunkIdKey: Uint8Array;
  region: (id: number) => Uint8Array;
}

const encoder = new TextEncoder();

/**
 * Answers the request posted in one slot (cryptoProtocol.ts): seals the input region's bytes into
 * the output region, with the SHA-256 of the sealed block (its CID's digest); or opens a sealed
 * chunk into it, with the plaintext's keyed chunk id (or the reason it does not open); or writes
 * the failure's message there. The crypto worker (cryptoThread.ts) runs it for every request;
 * the main thread runs this very code when the worker could not start (cryptoWorker.ts), so the
 * blocks, their CIDs and the checks are the same either way.
 */
export function answerRequest(context: RequestContext, slot: number): void {
  const { control } = context;
  const base = slotBase(slot);
  const inOffset = control[base + FIELD.IN_OFFSET]!;
  let out: Uint8Array | null = null;
  try {
    const input = context.region(control[base + FIELD.IN_REGION]!).subarray(inOffset, inOffset + control[base + FIELD.IN_LENGTH]!);
    out = context.region(control[base + FIELD.OUT_REGION]!).subarray(0, control[base + FIELD.OUT_CAPACITY]!);
    const op = control[base + FIELD.OP];
    if (op === OP.SEAL) {
      const sealed = sealChunk(context.dataKey, input, out);
      if (sealed.buffer !== out.buffer) throw new Error('the output region is too small for the sealed chunk');
      answer(context, base, STATE.DONE, sealed.length, createHash('sha256').update(sealed).digest());
      return;
    }
    if (op !== OP.OPEN) throw new Error(`unknown request ${op}`);
    const opened = tryOpenChunk(context.dataKey, input);
    if (!(opened instanceof Uint8Array)) {
      answer(context, base, STATE.REFUSED, encoder.encodeInto(opened.reason, out).written);
      return;
    }
    copyBytes(out, opened);
    const plaintext = out.subarray(0, opened.length);
    answer(context, base, STATE.DONE, opened.length, createHmac('sha256', context.chunkIdKey).update(plaintext).digest());
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    answer(context, base, STATE.FAILED, out ? encoder.encodeInto(message, out).written : 0);
  }
}

function answer(context: RequestContext, base: number, state: number, length: number, digest?: Uint8Array): void {
  context.control[base + FIELD.RESULT_LENGTH] = length;
  if (digest) context.controlBytes.set(digest, (base + FIELD.DIGEST) * Int32Array.BYTES_PER_ELEMENT);
  Atomics.store(context.control, base + FIELD.STATE, state);
  Atomics.notify(context.control, base + FIELD.STATE);
}
