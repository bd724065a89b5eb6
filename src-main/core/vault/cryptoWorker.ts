import { existsSync } from 'node:fs';
import { MessageChannel, Worker } from 'node:worker_threads';
import { HearthError } from '../common/hearthError';
import { chunkIntegrityError, sealedChunkLength } from './blockCipher';
import { copyBytes } from './sharedBytes';
import { CONTROL, FIELD, OP, STATE, controlLength, slotBase, type CryptoWorkerData, type SharedRegion } from './cryptoProtocol';
import { answerRequest, type RequestContext } from './cryptoRequest';

let running = 0;

/** Requests in flight at once: the main thread prepares the next blocks while the worker seals or opens these. */
const SLOTS = 4;
const DIGEST_BYTES = 32;

type WaitResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
/** Atomics.waitAsync (Node 16+; the ES2024 lib this project does not load types it). */
const waitAsync = (Atomics as unknown as { waitAsync: (array: Int32Array, index: number, value: number) => WaitResult }).waitAsync;

export interface OpenedChunk {
  /** The plaintext (a view of shared memory, valid until the slot is released). */
  plaintext: Uint8Array;
  /** The keyed chunk id of the plaintext (hex), as chunkId gives it. */
  id: string;
}

export interface SealedChunk {
  /** The sealed block (a view of shared memory, valid until the slot is released). */
  bytes: Uint8Array;
  /** SHA-256 of `bytes`: the digest of the raw block's CID. */
  digest: Uint8Array;
}

/** The worker's entry: a file, or code to evaluate. */
export interface CryptoWorkerEntry {
  code: string | URL;
  eval: boolean;
}

export interface CryptoWorkerOptions {
  /** Another entry (a test's worker that cannot start); by default the built or source entry. */
  entry?: CryptoWorkerEntry;
  /** Called once if the worker could not start and this thread seals instead, with why. */
  onSealingHere?: (why: string) => void;
}

/**
 * The vault's crypto worker for one snapshot or restore run (cryptoThread.ts runs in it): chunks
 * are sealed and opened there, each with the hash the main thread needs next (a sealed block's
 * SHA-256, a plaintext's keyed chunk id), while the main thread reads, chunks and writes, and the
 * main thread never holds the fresh buffer Node's cipher makes per call (on the main thread's
 * large heap those buffers cost a full collection every few dozen blocks). Work goes through a
 * few slots (see cryptoProtocol.ts): take a slot, seal or open through it, read the answer (a
 * view of shared memory), release it. The worker holds the process open only while a request is
 * in flight, and close() (the run's finally) ends it. A worker that could not start (see
 * stopped()) leaves the work to the main thread, with the same code; one that stops after it
 * started, or is closed, fails every request in flight and every later one with an INTERNAL
 * error, never hangs one.
 */
export class VaultCryptoWorker {
  /** Workers started and not yet exited, in this process (the tests hold every run to closing its own). */
  static get running(): number {
    return running;
  }

  /** Null when it could not even be created. */
  private readonly worker: Worker | null = null;
  private readonly port: MessageChannel['port1'];
  /** @internal The control buffer's words (cryptoProtocol.ts); a slot writes its request there. */
  readonly control: Int32Array;
  private readonly controlBytes: Uint8Array;
  private readonly free: CryptoSlot[] = [];
  private readonly waiting: { resolve: (slot: CryptoSlot) => void; reject: (error: unknown) => void }[] = [];
  private readonly regionIds = new WeakMap<SharedArrayBuffer, number>();
  /** The regions by id, as the worker knows them (read when this thread seals). */
  private readonly regions = new Map<number, Uint8Array>();
  private readonly here: RequestContext;
  private readonly onSealingHere: ((why: string) => void) | undefined;
  private nextRegion = 1;
  private nextSeq = 1;
  private inFlight = 0;
  private death: HearthError | null = null;
  private closing = false;
  /** The worker could not start: requests are answered in this thread. */
  private sealingHere = false;

  constructor(keys: { dataKey: Uint8Array; chunkIdKey: Uint8Array }, options: CryptoWorkerOptions = {}) {
    const { dataKey, chunkIdKey } = keys;
    if (dataKey.length !== 32 || chunkIdKey.length !== 32) throw new HearthError('BAD_INPUT', 'The vault data key and chunk-id key must be 32 bytes.');
    const control = new SharedArrayBuffer(controlLength(SLOTS));
    this.control = new Int32Array(control);
    this.controlBytes = new Uint8Array(control);
    this.here = { control: this.control, controlBytes: this.controlBytes, dataKey, chunkIdKey, region: (id) => this.regionById(id) };
    this.onSealingHere = options.onSealingHere;
    for (let i = 0; i < SLOTS; i++) this.free.push(new CryptoSlot(this, i));
    const channel = new MessageChannel();
    this.port = channel.port1;
    this.port.unref();
    const data: CryptoWorkerData = { control, slots: SLOTS, port: channel.port2, dataKey, chunkIdKey };
    const entry = options.entry ?? workerEntry();
    try {
      this.worker = new Worker(entry.code, { eval: entry.eval, workerData: data, transferList: [channel.port2] });
    } catch (error) {
      this.stopped(`could not be created: ${(error as Error).message}`, error);
      return;
    }
    running++;
    this.worker.unref();
    this.worker.on('error', (error) => this.stopped(`failed: ${error.message}`, error));
    this.worker.on('exit', (code) => {
      running--;
      this.stopped(`exited (code ${code})`);
    });
  }

  /** A free slot; waits while every slot is in use (each is released by whoever took it). */
  slot(): Promise<CryptoSlot> {
    if (this.death) return Promise.reject(this.death);
    const slot = this.free.pop();
    if (slot) return Promise.resolve(slot);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /**
   * A buffer in shared memory that the worker reads without a copy: a sealed block fetched into
   * it opens in place. Reuse it only once the open that read it has answered.
   */
  shared(length: number): Uint8Array {
    const buffer = new SharedArrayBuffer(length);
    this.region(buffer);
    return new Uint8Array(buffer);
  }

  /** Ends the worker (idempotent); requests still in flight fail. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    Atomics.store(this.control, CONTROL.STOP, 1);
    this.ring();
    this.died('was closed');
    this.port.close();
    await this.worker?.terminate();
  }

  /** @internal The id of a shared buffer, sent to the worker before its first use. */
  region(buffer: SharedArrayBuffer): number {
    let id = this.regionIds.get(buffer);
    if (id === undefined) {
      id = this.nextRegion++;
      this.regionIds.set(buffer, id);
      this.regions.set(id, new Uint8Array(buffer));
      this.port.postMessage({ id, buffer } satisfies SharedRegion);
    }
    return id;
  }

  /** @internal Tells the worker a slot's old buffer is gone. */
  forget(buffer: SharedArrayBuffer): void {
    const id = this.regionIds.get(buffer);
    if (id === undefined) return;
    this.regionIds.delete(buffer);
    this.regions.delete(id);
    this.port.postMessage({ id, buffer: null } satisfies SharedRegion);
  }

  /** @internal Posts the request written into a slot's record and waits for its answer. */
  async post(slot: number, op: number): Promise<{ state: number; length: number }> {
    if (this.death) throw this.death;
    const base = slotBase(slot);
    this.control[base + FIELD.OP] = op;
    this.control[base + FIELD.SEQ] = this.nextSeq++ | 0;
    Atomics.store(this.control, base + FIELD.STATE, STATE.POSTED);
    if (this.sealingHere) answerRequest(this.here, slot);
    else await this.answered(base);
    const state = Atomics.load(this.control, base + FIELD.STATE);
    if (state === STATE.DEAD) throw this.death ?? new HearthError('INTERNAL', 'The vault crypto worker stopped.');
    return { state, length: this.control[base + FIELD.RESULT_LENGTH]! };
  }

  /** @internal The digest a slot's answer carries. */
  digest(slot: number): Uint8Array {
    const at = (slotBase(slot) + FIELD.DIGEST) * Int32Array.BYTES_PER_ELEMENT;
    return this.controlBytes.slice(at, at + DIGEST_BYTES);
  }

  /** @internal */
  release(slot: CryptoSlot): void {
    Atomics.store(this.control, slotBase(slot.index) + FIELD.STATE, STATE.FREE);
    const next = this.waiting.shift();
    if (next) next.resolve(slot);
    else this.free.push(slot);
  }

  private async answered(base: number): Promise<void> {
    if (this.inFlight++ === 0) this.worker?.ref();
    this.ring();
    try {
      const wait = waitAsync(this.control, base + FIELD.STATE, STATE.POSTED);
      if (wait.async) await wait.value;
    } finally {
      if (--this.inFlight === 0) this.worker?.unref();
    }
  }

  private regionById(id: number): Uint8Array {
    const region = this.regions.get(id);
    if (!region) throw new Error(`shared region ${id} is unknown`);
    return region;
  }

  private ring(): void {
    Atomics.add(this.control, CONTROL.DOORBELL, 1);
    Atomics.notify(this.control, CONTROL.DOORBELL);
  }

  /**
   * The one place that decides what a stopped worker means. One whose own code never ran (the
   * READY word unset: its entry or an import could not be loaded, say from a packaged app's
   * archive, or the Worker could not even be created) leaves the sealing to this thread: the same
   * code (cryptoRequest.ts), so the same blocks and CIDs, starting with the requests already
   * posted, whose bytes are still in their slots. Node's 'online' event cannot tell: it comes
   * before the entry loads. One that ran and stopped (a crash mid-run is a bug to surface; the
   * run's rollback deletes what it wrote), or was closed, fails the run.
   */
  private stopped(how: string, cause?: unknown): void {
    if (this.sealingHere || this.death) return;
    if (this.closing || Atomics.load(this.control, CONTROL.READY) !== 0) {
      this.died(how, cause);
      return;
    }
    this.sealingHere = true;
    for (let slot = 0; slot < SLOTS; slot++) {
      if (Atomics.load(this.control, slotBase(slot) + FIELD.STATE) === STATE.POSTED) answerRequest(this.here, slot);
    }
    this.onSealingHere?.(cause instanceof Error ? cause.message : how);
  }

  /** Fails what is in flight and everything after: a dead worker never leaves a request waiting. */
  private died(how: string, cause?: unknown): void {
    if (this.death) return;
    this.death = new HearthError('INTERNAL', `The vault crypto worker ${how}; the snapshot or restore stopped there. Run it again.`, cause === undefined ? undefined : { cause });
    for (let slot = 0; slot < SLOTS; slot++) {
      const state = slotBase(slot) + FIELD.STATE;
      if (Atomics.compareExchange(this.control, state, STATE.POSTED, STATE.DEAD) === STATE.POSTED) Atomics.notify(this.control, state);
    }
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.death);
  }
}

/** One request at a time through one record of the control buffer, with the shared buffers it reads and writes. */
export class CryptoSlot {
  private input: Uint8Array<SharedArrayBuffer> = new Uint8Array(new SharedArrayBuffer(0));
  private output: Uint8Array<SharedArrayBuffer> = new Uint8Array(new SharedArrayBuffer(0));

  constructor(
    private readonly pool: VaultCryptoWorker,
    readonly index: number,
  ) {}

  /** Seals a chunk: `plaintext` is copied before this returns, so the caller may reuse it at once. */
  seal(plaintext: Uint8Array): Promise<SealedChunk> {
    this.input = this.grown(this.input, plaintext.length);
    copyBytes(this.input, plaintext);
    this.request(this.input, 0, plaintext.length, sealedChunkLength(plaintext.length));
    return this.pool.post(this.index, OP.SEAL).then(({ state, length }) => {
      if (state !== STATE.DONE) throw this.failure(state, length, 'sealing a chunk');
      return { bytes: this.output.subarray(0, length), digest: this.pool.digest(this.index) };
    });
  }

  /**
   * Opens a sealed chunk and computes its keyed id. Read in place when `sealed` lies in a buffer
   * from shared() (which must then stay untouched until this answers), else copied first.
   */
  open(sealed: Uint8Array, label: string): Promise<OpenedChunk> {
    if (sealed.buffer instanceof SharedArrayBuffer) {
      this.request(sealed, sealed.byteOffset, sealed.length, sealed.length);
    } else {
      this.input = this.grown(this.input, sealed.length);
      copyBytes(this.input, sealed);
      this.request(this.input, 0, sealed.length, sealed.length);
    }
    return this.pool.post(this.index, OP.OPEN).then(({ state, length }) => {
      if (state === STATE.REFUSED) throw chunkIntegrityError(label, this.text(length));
      if (state !== STATE.DONE) throw this.failure(state, length, `opening block ${label}`);
      return { plaintext: this.output.subarray(0, length), id: Buffer.from(this.pool.digest(this.index)).toString('hex') };
    });
  }

  release(): void {
    this.pool.release(this);
  }

  private request(input: Uint8Array, offset: number, length: number, outCapacity: number): void {
    this.output = this.grown(this.output, outCapacity);
    const control = this.pool.control;
    const base = slotBase(this.index);
    control[base + FIELD.IN_REGION] = this.pool.region(input.buffer as SharedArrayBuffer);
    control[base + FIELD.IN_OFFSET] = offset;
    control[base + FIELD.IN_LENGTH] = length;
    control[base + FIELD.OUT_REGION] = this.pool.region(this.output.buffer);
    control[base + FIELD.OUT_CAPACITY] = outCapacity;
  }

  /** `buffer`, or a larger one (at least 1 MiB more than asked, so it rarely grows twice) when it is too small. */
  private grown(buffer: Uint8Array<SharedArrayBuffer>, length: number): Uint8Array<SharedArrayBuffer> {
    if (buffer.length >= length) return buffer;
    this.pool.forget(buffer.buffer);
    return new Uint8Array(new SharedArrayBuffer(length + 1024 * 1024));
  }

  private text(length: number): string {
    return Buffer.from(this.output.subarray(0, length)).toString('utf8');
  }

  private failure(state: number, length: number, what: string): HearthError {
    return new HearthError('INTERNAL', `The vault crypto worker failed ${what}${state === STATE.FAILED ? `: ${this.text(length)}` : ''}.`);
  }
}

/**
 * The built entry beside the main bundle (out/main/vaultCryptoWorker.js, next to the file or the
 * chunks/ folder this module is bundled into), else the TypeScript source through tsx (tests,
 * `tsx` runs).
 */
function workerEntry(): { code: string | URL; eval: boolean } {
  for (const relative of ['./vaultCryptoWorker.js', '../vaultCryptoWorker.js']) {
    const built = new URL(relative, import.meta.url);
    if (built.protocol === 'file:' && existsSync(built)) return { code: built, eval: false };
  }
  // Resolved from the working directory (the repository's, where tests and tsx run).
  const source = new URL('./cryptoThread.ts', import.meta.url).href;
  return { code: `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`, eval: true };
}
