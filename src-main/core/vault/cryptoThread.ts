import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { CONTROL, FIELD, STATE, slotBase, type CryptoWorkerData, type SharedRegion } from './cryptoProtocol';
import { answerRequest, type RequestContext } from './cryptoRequest';

/**
 * The vault's crypto worker (its own entry file, started by cryptoWorker.ts): seals a snapshot's
 * chunks and hashes each sealed block (its CID), or opens a restore's chunks and takes each
 * plaintext's keyed id, beside the main thread that reads, chunks and writes. Node's cipher hands
 * back a fresh buffer per call; made here, that memory is this small isolate's to collect.
 * Requests and answers go through shared memory (cryptoProtocol.ts); the thread blocks on the
 * doorbell between requests.
 */
const data = workerData as CryptoWorkerData;
const control = new Int32Array(data.control);
const controlBytes = new Uint8Array(data.control);
const regions = new Map<number, Uint8Array>();

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

const context: RequestContext = { control, controlBytes, dataKey: data.dataKey, chunkIdKey: data.chunkIdKey, region };
// This thread's code runs: from now on, its stopping is a failure of the run (cryptoWorker.ts).
Atomics.store(control, CONTROL.READY, 1);
for (;;) {
  const bell = Atomics.load(control, CONTROL.DOORBELL);
  if (Atomics.load(control, CONTROL.STOP) !== 0) break;
  const slot = nextPosted();
  if (slot >= 0) answerRequest(context, slot);
  else Atomics.wait(control, CONTROL.DOORBELL, bell);
}
data.port.close();
