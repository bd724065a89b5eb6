/**
 * Writes minimal GGUF v3 files for tests that need a header with chosen contents
 * (for example a model that declares more weights than this machine has memory).
 */
type Value = { type: 'u32'; value: number } | { type: 'string'; value: string } | { type: 'f32'; value: number };

export interface TensorSpec {
  name: string;
  dims: bigint[];
  /** GGML type id: 0 = F32. */
  ggmlType: number;
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const u64 = (n: bigint | number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
const str = (s: string) => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);

function kv(key: string, v: Value): Buffer {
  switch (v.type) {
    case 'u32':
      return Buffer.concat([str(key), u32(4), u32(v.value)]);
    case 'f32': {
      const b = Buffer.alloc(4);
      b.writeFloatLE(v.value);
      return Buffer.concat([str(key), u32(6), b]);
    }
    case 'string':
      return Buffer.concat([str(key), u32(8), str(v.value)]);
  }
}

/** Header only (plus `dataBytes` zero bytes of tensor data): enough for metadata readers. */
export function ggufBytes(metadata: Record<string, Value>, tensors: TensorSpec[], dataBytes = 0): Buffer {
  const parts: Buffer[] = [Buffer.from('GGUF'), u32(3), u64(tensors.length), u64(Object.keys(metadata).length)];
  for (const [key, value] of Object.entries(metadata)) parts.push(kv(key, value));
  let offset = 0n;
  for (const t of tensors) {
    parts.push(str(t.name), u32(t.dims.length), ...t.dims.map(u64), u32(t.ggmlType), u64(offset));
    const elements = t.dims.reduce((a, b) => a * b, 1n);
    offset += ((elements * 4n + 31n) / 32n) * 32n;
  }
  const header = Buffer.concat(parts);
  const padding = (32 - (header.length % 32)) % 32;
  return Buffer.concat([header, Buffer.alloc(padding), Buffer.alloc(dataBytes)]);
}

/** A llama-architecture header whose one F32 tensor declares `elements` weights. */
export function hugeModelBytes(elements: bigint): Buffer {
  const rows = 1_000_000n;
  return ggufBytes(
    {
      'general.architecture': { type: 'string', value: 'llama' },
      'general.name': { type: 'string', value: 'Huge Test Model' },
      'llama.block_count': { type: 'u32', value: 1 },
      'llama.context_length': { type: 'u32', value: 2048 },
      'llama.embedding_length': { type: 'u32', value: 64 },
      'llama.feed_forward_length': { type: 'u32', value: 64 },
      'llama.attention.head_count': { type: 'u32', value: 1 },
    },
    [{ name: 'token_embd.weight', dims: [elements / rows, rows], ggmlType: 0 }],
  );
}
