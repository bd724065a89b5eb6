import type { ManifestChunk } from '../../src-main/core/vault/types';
import { chunkId } from '../../src-main/core/vault/vaultKeys';

/**
 * Whether a chunk list (keyed SHA-256 ids and sizes, in order) describes exactly these bytes:
 * the file's digest from manifest format /3 on, as a restore checks it chunk by chunk.
 */
export function chunksDescribe(chunks: readonly Pick<ManifestChunk, 'id' | 'size'>[], bytes: Uint8Array, chunkIdKey: Uint8Array): boolean {
  let at = 0;
  for (const chunk of chunks) {
    if (at + chunk.size > bytes.length || chunkId(chunkIdKey, bytes.subarray(at, at + chunk.size)) !== chunk.id) return false;
    at += chunk.size;
  }
  return at === bytes.length;
}
