/**
 * The content-defined chunker's inner loop (the gear hash over every byte past the minimum
 * chunk size) as a small WebAssembly function: about 2–3× the speed of the same loop in
 * JavaScript, which was a fifth of a snapshot's CPU time. The cut points are exactly the
 * JavaScript loop's (tests/unit/vault/contentChunker.test.ts compares them), so snapshots
 * taken before still share their chunks.
 *
 * The module is assembled here from its instructions (no binary blob); each loop takes four
 * bytes a turn while four remain (same steps, same checks, a quarter of the loop overhead):
 *
 *   scan(i, hardEnd, easyEnd, hash, maskHard, maskEasy) -> i32
 *     while i < hardEnd: hash = (hash << 1) + gear[mem[i]]; i++; if !(hash & maskHard) return i
 *     while i < easyEnd: hash = (hash << 1) + gear[mem[i]]; i++; if !(hash & maskEasy) return i
 *     mem32[HASH_AT] = hash; mem32[POSITION_AT] = i; return 0
 *
 * Memory layout: the 256-word gear table at 0, the state words at 1024, the data from DATA_AT.
 */
export const DATA_AT = 4096;
const HASH_AT = 1024;
const POSITION_AT = 1028;
const PAGE = 65536;

// Opcodes (WebAssembly core spec §5.4).
const I32 = 0x7f;
const BLOCK = 0x02;
const LOOP = 0x03;
const IF = 0x04;
const EMPTY = 0x40;
const END = 0x0b;
const BR = 0x0c;
const BR_IF = 0x0d;
const RETURN = 0x0f;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_LOAD = 0x28;
const I32_LOAD8_U = 0x2d;
const I32_STORE = 0x36;
const I32_CONST = 0x41;
const I32_EQZ = 0x45;
const I32_LT_U = 0x49;
const I32_GT_U = 0x4b;
const I32_GE_U = 0x4f;
const I32_ADD = 0x6a;
const I32_AND = 0x71;
const I32_SHL = 0x74;

// Parameters of scan().
const P_I = 0;
const P_HARD_END = 1;
const P_EASY_END = 2;
const P_HASH = 3;
const P_MASK_HARD = 4;
const P_MASK_EASY = 5;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 for the non-negative constants used here. */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if (n === 0 && (byte & 0x40) === 0) return [...out, byte];
    out.push(byte | 0x80);
  }
}

const get = (index: number) => [LOCAL_GET, index];
const set = (index: number) => [LOCAL_SET, index];
const constant = (n: number) => [I32_CONST, ...sleb(n)];

/** hash = (hash << 1) + gear[mem[i + k]]; if ((hash & mask) == 0) return i + k + 1 */
function step(k: number, mask: number): number[] {
  return [
    ...get(P_HASH), ...constant(1), I32_SHL,
    ...get(P_I), I32_LOAD8_U, 0, ...uleb(k), ...constant(2), I32_SHL, I32_LOAD, 2, 0,
    I32_ADD, ...set(P_HASH),
    ...get(P_HASH), ...get(mask), I32_AND, I32_EQZ, IF, EMPTY, ...get(P_I), ...constant(k + 1), I32_ADD, RETURN, END,
  ];
}

/**
 * One of the two loops, four bytes a turn while four remain (the same steps and checks as one at
 * a time, with a quarter of the loop's own compare and branch), then the rest one at a time.
 */
function unrolledLoop(end: number, mask: number): number[] {
  return [
    BLOCK, EMPTY,
    LOOP, EMPTY,
    // if (i + 4 > end) leave for the byte-at-a-time loop
    ...get(P_I), ...constant(4), I32_ADD, ...get(end), I32_GT_U, BR_IF, 1,
    ...step(0, mask), ...step(1, mask), ...step(2, mask), ...step(3, mask),
    ...get(P_I), ...constant(4), I32_ADD, ...set(P_I),
    BR, 0,
    END,
    END,
    ...loop(end, mask),
  ];
}

/** One of the two loops: runs while i < end, returns i (past the cut byte) when hash & mask is 0. */
function loop(end: number, mask: number): number[] {
  return [
    BLOCK, EMPTY,
    ...get(P_I), ...get(end), I32_GE_U, BR_IF, 0,
    LOOP, EMPTY,
    // hash = (hash << 1) + gear[mem[i]]
    ...get(P_HASH), ...constant(1), I32_SHL,
    ...get(P_I), I32_LOAD8_U, 0, 0, ...constant(2), I32_SHL, I32_LOAD, 2, 0,
    I32_ADD, ...set(P_HASH),
    // i++
    ...get(P_I), ...constant(1), I32_ADD, ...set(P_I),
    // if ((hash & mask) == 0) return i
    ...get(P_HASH), ...get(mask), I32_AND, I32_EQZ, IF, EMPTY, ...get(P_I), RETURN, END,
    ...get(P_I), ...get(end), I32_LT_U, BR_IF, 0,
    END,
    END,
  ];
}

function assemble(): Uint8Array {
  const body = [
    0, // no locals besides the parameters
    ...unrolledLoop(P_HARD_END, P_MASK_HARD),
    ...unrolledLoop(P_EASY_END, P_MASK_EASY),
    ...constant(HASH_AT), ...get(P_HASH), I32_STORE, 2, 0,
    ...constant(POSITION_AT), ...get(P_I), I32_STORE, 2, 0,
    ...constant(0),
    END,
  ];
  const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
  const name = (text: string) => [...uleb(text.length), ...new TextEncoder().encode(text)];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 6, I32, I32, I32, I32, I32, I32, 1, I32]), // type: (i32 × 6) -> i32
    ...section(2, [1, ...name('env'), ...name('mem'), 0x02, 0x00, 1]), // import: memory, min 1 page
    ...section(3, [1, 0]), // function 0 has type 0
    ...section(7, [1, ...name('scan'), 0x00, 0]), // export "scan" = function 0
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

/** The slice of the WebAssembly JS API used here (the project's TypeScript libs declare no values for it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: object | null = null;

/** A gear scanner with its own memory: the table loaded, `data` the window the chunker fills. */
export class GearScanner {
  readonly data: Uint8Array;
  private readonly words: DataView;
  private readonly scanFn: (i: number, hardEnd: number, easyEnd: number, hash: number, maskHard: number, maskEasy: number) => number;

  constructor(gear: Int32Array, dataBytes: number) {
    if (gear.length !== 256) throw new RangeError('The gear table has 256 words');
    compiled ??= new wasm.Module(assemble());
    const memory = new wasm.Memory({ initial: Math.ceil((DATA_AT + dataBytes) / PAGE) });
    const instance = new wasm.Instance(compiled, { env: { mem: memory } });
    this.scanFn = instance.exports.scan as GearScanner['scanFn'];
    const table = new DataView(memory.buffer, 0, 1024);
    for (let i = 0; i < 256; i++) table.setInt32(i * 4, gear[i]!, true);
    this.words = new DataView(memory.buffer, HASH_AT, 8);
    this.data = new Uint8Array(memory.buffer, DATA_AT, dataBytes);
  }

  /**
   * Scans data[from..] (indexes into `data`): returns the index just past the cut, or -1 with
   * the hash and the index reached in `state`, to carry on from when more data arrives.
   */
  scan(from: number, hardEnd: number, easyEnd: number, state: { hash: number; position: number }, maskHard: number, maskEasy: number): number {
    const cut = this.scanFn(DATA_AT + from, DATA_AT + hardEnd, DATA_AT + easyEnd, state.hash, maskHard, maskEasy);
    if (cut !== 0) return cut - DATA_AT;
    state.hash = this.words.getInt32(0, true);
    state.position = this.words.getInt32(POSITION_AT - HASH_AT, true) - DATA_AT;
    return -1;
  }
}
