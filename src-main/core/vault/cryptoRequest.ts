import { createHash } from 'node:crypto';
import { sealChunk } from './blockCipher';
import { FIELD, OP, STATE, slotBase } from './cryptoProtocol';

/** What answering a request needs: the control buffer (as words and bytes), the data key, the regions by id. */
export interface RequestContext {
  control: Int32Array;
  controlBytes: Uint8Array;
  dataKey: Uint8Array;
  region: (id: number) => Uint8Array;
}

const encoder = new TextEncoder();

/**
 * Answers the request posted in one slot (cryptoProtocol.ts): seals the input region's bytes into
 * the output region, with the SHA-256 of the sealed block (its CID's digest), or writes the
 * failure's message there. The crypto worker (cryptoThread.ts) runs it for every request; the
 * main thread runs this very code when the worker could not start (cryptoWorker.ts), so the
 * blocks and their CIDs are made the same way either way.
 */
export function answerRequest(context: RequestContext, slot: number): void {
  const { control } = context;
  const base = slotBase(slot);
  const inOffset = control[base + FIELD.IN_OFFSET]!;
  let out: Uint8Array | null = null;
  try {
    const input = context.region(control[base + FIELD.IN_REGION]!).subarray(inOffset, inOffset + control[base + FIELD.IN_LENGTH]!);
    out = context.region(control[base + FIELD.OUT_REGION]!).subarray(0, control[base + FIELD.OUT_CAPACITY]!);
    if (control[base + FIELD.OP] !== OP.SEAL) throw new Error(`unknown request ${control[base + FIELD.OP]}`);
    const sealed = sealChunk(context.dataKey, input, out);
    if (sealed.buffer !== out.buffer) throw new Error('the output region is too small for the sealed chunk');
    answer(context, base, STATE.DONE, sealed.length, createHash('sha256').update(sealed).digest());
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
