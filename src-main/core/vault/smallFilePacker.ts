import type { ChunkRef, ChunkSealer } from './chunkSealer';

/**
 * Small files are packed together into pack blocks, so an observer's block counts and sizes
 * say nothing about them: a file under `below` bytes is never a block of its own. Packs close
 * before they pass `maxBytes` (the small-file chunker's maximum chunk size) and are zero-filled
 * up to `minBytes` (its minimum), so a pack's size is a chunk's size; then padded and sealed like
 * a chunk. A file entry references its slice of the pack by offset and length.
 */
export const PACKING = { below: 64 * 1024, maxBytes: 256 * 1024, minBytes: 16 * 1024 } as const;

interface Pending {
  id: string;
  bytes: Uint8Array;
  /** Everyone waiting for this piece's reference (equal files share one piece). */
  waiting: ((ref: ChunkRef) => void)[];
}

export class SmallFilePacker {
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private readonly byId = new Map<string, Pending>();

  constructor(private readonly sealer: ChunkSealer) {}

  /** Adds one small file's bytes; `onRef` gets its reference now (already sealed) or when its pack is sealed. */
  async add(bytes: Uint8Array, onRef: (ref: ChunkRef) => void): Promise<void> {
    const id = this.sealer.id(bytes);
    const queued = this.byId.get(id);
    if (queued) {
      queued.waiting.push(onRef);
      return;
    }
    const existing = await this.sealer.reference(id, bytes.length);
    if (existing) {
      onRef(existing);
      return;
    }
    if (this.pendingBytes + bytes.length > PACKING.maxBytes) await this.flush();
    const piece: Pending = { id, bytes, waiting: [onRef] };
    this.pending.push(piece);
    this.byId.set(id, piece);
    this.pendingBytes += bytes.length;
  }

  /** Seals what is pending as one pack and hands out the references. */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const pieces = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.byId.clear();
    const refs = await this.sealer.pack(pieces, PACKING.minBytes);
    for (const [i, piece] of pieces.entries()) for (const give of piece.waiting) give(refs[i]!);
  }
}
