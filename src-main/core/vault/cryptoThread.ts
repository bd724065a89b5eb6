import { createHash } from 'node:crypto';
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { sealChunk } from './blockCipher';
import { CONTROL, FIELD, OP, STATE, slotBase, type CryptoWorkerData, type SharedRegion } from './cryptoProtocol';

/**
 * The vault's crypto worker (its own entry file, started by cryptoWorker.ts): seals a snapshot's
 * chunks and hashes each sealed block (its CID), beside the main thread that reads and chunks
 * the next bytes. Node's cipher hands back a fresh buffer per call; made here, that memory is
 * this small isolate's to collect. Requests and answers go through shared memory
 * (cryptoProtocol.ts); the thread blocks on the doorbell between requests.
 */
const data = workerData as CryptoWorkerData;
const control = new Int32Array(data.control);
const controlBytes = new Uint8Array(data.control);
const regions = new Map<number, Uint8Array>();
const encoder = new TextEncoder();

/** A region by id; one not seen yet is waiting on the port (sent before the request that names it). */
function region(id: number): Uint8Array {
  for (;;) {
    const known = regions.get(id);
    if (known) return known;
    const received = receiveMessageOnPort(data.port);
    if (!received) throw new Error(`shared region ${id} was never sent to the crypto worker`);
    const sent = received.message as SharedRegion;
    if (sent.buffer) regions.set(sent.id, new Uint8Array(sent.buffer));
    else regions.delete(sent.id);
  }
}

/** The posted slot with the lowest sequence number, or -1. */
function nextPosted(): number {
  let best = -1;
  let bestSeq = 0;
  for (let slot = 0; slot < data.slots; slot++) {
    const base = slotBase(slot);
    if (Atomics.load(control, base + FIELD.STATE) !== STATE.POSTED) continue;
    const seq = control[base + FIELD.SEQ]!;
    if (best < 0 || seq - bestSeq < 0) {
      best = slot;
      bestSeq = seq;
    }
  }
  return best;
}

function answer(base: number, state: number, length: number, digest?: Uint8Array): void {
  control[base + FIELD.RESULT_LENGTH] = length;
  if (digest) controlBytes.set(digest, (base + FIELD.DIGEST) * Int32Array.BYTES_PER_ELEMENT);
  Atomics.store(control, base + FIELD.STATE, state);
  Atomics.notify(control, base + FIELD.STATE);
}

function text(out: Uint8Array, message: string): number {
  return encoder.encodeInto(message, out).written;
}

function run(slot: number): void {
  const base = slotBase(slot);
  const inOffset = control[base + FIELD.IN_OFFSET]!;
  let out: Uint8Array | null = null;
  try {
    const input = region(control[base + FIELD.IN_REGION]!).subarray(inOffset, inOffset + control[base + FIELD.IN_LENGTH]!);
    out = region(control[base + FIELD.OUT_REGION]!).subarray(0, control[base + FIELD.OUT_CAPACITY]!);
    if (control[base + FIELD.OP] !== OP.SEAL) throw new Error(`unknown request ${control[base + FIELD.OP]}`);
    const sealed = sealChunk(data.dataKey, input, out);
    if (sealed.buffer !== out.buffer) throw new Error('the output region is too small for the sealed chunk');
    answer(base, STATE.DONE, sealed.length, createHash('sha256').update(sealed).digest());
  } catch (error) {
    answer(base, STATE.FAILED, out ? text(out, error instanceof Error ? error.message : String(error)) : 0);
  }
}

for (;;) {
  const bell = Atomics.load(control, CONTROL.DOORBELL);
  if (Atomics.load(control, CONTROL.STOP) !== 0) break;
  const slot = nextPosted();
  if (slot >= 0) run(slot);
  else Atomics.wait(control, CONTROL.DOORBELL, bell);
}
data.port.close();
