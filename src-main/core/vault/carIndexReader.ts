import type { FileHandle } from 'node:fs/promises';
import { createDecoder, type BytesReader } from '@ipld/car/decoder';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { HearthError } from '../common/hearthError';

/** Where a block's bytes lie in one of an index's files. */
export interface BlockLocation {
  file: number;
  offset: number;
  length: number;
}

/**
 * Bytes read at once for section heads. A head (a varint and a CID) is under 100 bytes; a
 * read of one page also holds the next heads when blocks are small (list blocks, packs).
 */
const HEAD_READ_BYTES = 4096;
/** A CAR header or section head larger than this is not one Hearth wrote (ours holds one root). */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;
/** CIDv0: a bare sha2-256 multihash (0x12, 32 bytes), dag-pb. */
const CIDV0_SHA256 = 0x12;
const CIDV0_LENGTH = 0x20;
const DAG_PB = 0x70;

/** One key per multihash: CIDv0/v1 and raw/dag-cbor CIDs of the same bytes find the same block. */
export function blockKey(cid: CID): string {
  return multihashKey(cid.multihash.bytes, 0, cid.multihash.bytes.length);
}

function multihashKey(bytes: Uint8Array, start: number, length: number): string {
  // A view, not a copy: base64 reads the bytes where they are.
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, length).toString('base64');
}

/**
 * Adds every block of the CARv1 file at `path` (open as `handle`, `size` bytes) to `entries`,
 * keyed by blockKey, and returns the roots its header names. The header is read with
 * @ipld/car's decoder; the sections are walked here, reading only each section's head (the
 * varint and the CID) into one reused page-sized buffer and skipping the block's bytes: a CAR of
 * 2,700 blocks was read 64 KiB a section into a fresh buffer each (~170 MB of reads and
 * short-lived external memory) by the decoder's generic reader, with several awaits per field.
 * A truncated or malformed file throws CORRUPT_FILE naming it; a CAR of another version, UNSUPPORTED.
 */
export async function indexCarFile(
  handle: FileHandle,
  size: number,
  path: string,
  file: number,
  entries: Map<string, BlockLocation>,
  signal?: AbortSignal,
): Promise<CID[]> {
  const corrupt = (detail: string, cause?: unknown): HearthError =>
    new HearthError('CORRUPT_FILE', `${path} is truncated or not a CAR file (${detail}); copy it again or publish the snapshot again.`, { cause });
  const reader = new WindowReader(handle, size);
  let header: Awaited<ReturnType<ReturnType<typeof createDecoder>['header']>>;
  let pos: number;
  try {
    const bytes = reader.bytesReader();
    header = await createDecoder(bytes).header();
    pos = bytes.pos;
  } catch (error) {
    throw corrupt(describeDecodeError(error), error);
  }
  if (header.version !== 1) {
    throw new HearthError('UNSUPPORTED', `${path} is a CARv${header.version} file; Hearth reads CARv1 files, as it writes them.`);
  }
  try {
    while (pos < size) {
      // Every section (a check costs nothing): one in a thousand left the optimized loop without
      // feedback for it, and TurboFan threw the loop's code away at the 1,024th.
      signal?.throwIfAborted();
      let head = await reader.window(pos, HEAD_READ_BYTES);
      let section = readSectionHead(head.bytes, head.start);
      if (section === SHORT) {
        // A head longer than a page (a huge varint-declared digest) or cut by the end of the file.
        head = await reader.window(pos, Math.min(MAX_HEADER_BYTES, size - pos));
        section = readSectionHead(head.bytes, head.start);
      }
      if (section === SHORT) throw corrupt('it ends in the middle of a block');
      if (typeof section === 'string') throw corrupt(section);
      const blockOffset = pos + section.headLength;
      const blockLength = section.sectionLength - section.cidLength;
      // The block's bytes are never read here: a cut inside the last block only shows as a block
      // that ends past the end of the file.
      if (blockOffset + blockLength > size) {
        throw corrupt(`block ${describeCid(head.bytes, head.start + section.cidStart, section)} ends at byte ${blockOffset + blockLength} of ${size}`);
      }
      entries.set(multihashKey(head.bytes, head.start + section.multihashStart, section.multihashLength), {
        file,
        offset: blockOffset,
        length: blockLength,
      });
      pos = blockOffset + blockLength;
    }
  } catch (error) {
    if (error instanceof HearthError || (error as Error | undefined)?.name === 'AbortError') throw error;
    throw corrupt(describeDecodeError(error), error);
  }
  return header.roots;
}

interface SectionHead {
  /** The varint's value: the CID's and the block's bytes. */
  sectionLength: number;
  /** The varint and the CID. */
  headLength: number;
  cidStart: number;
  cidLength: number;
  multihashStart: number;
  multihashLength: number;
  /** 0 for a CIDv0 (a bare multihash), else the codec. */
  version: 0 | 1;
  codec: number;
}

/** The bytes given end before the head does. */
const SHORT = Symbol('short');

/**
 * The section head at bytes[start..]: a varint length, then a CID (v0: a bare sha2-256
 * multihash; v1: version, codec, multihash), as @ipld/car's readBlockHead reads it. Offsets are
 * relative to `start`. SHORT when the bytes end first; a string says what is malformed.
 */
function readSectionHead(bytes: Uint8Array, start: number): SectionHead | typeof SHORT | string {
  let at = start;
  const varint = (): number | typeof SHORT | string => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      if (at >= bytes.length) return SHORT;
      if (shift > 49) return 'a varint longer than 8 bytes';
      const byte = bytes[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  const sectionLength = varint();
  if (typeof sectionLength !== 'number') return sectionLength;
  if (sectionLength === 0) return 'Invalid CAR section (zero length)';
  const cidStart = at - start;
  let version: 0 | 1 = 1;
  let codec = DAG_PB;
  let multihashStart: number;
  if (at + 1 >= bytes.length) return SHORT;
  if (bytes[at] === CIDV0_SHA256 && bytes[at + 1] === CIDV0_LENGTH) {
    version = 0;
    multihashStart = at;
  } else {
    const cidVersion = varint();
    if (typeof cidVersion !== 'number') return cidVersion;
    if (cidVersion !== 1) return `Unexpected CID version (${cidVersion})`;
    const cidCodec = varint();
    if (typeof cidCodec !== 'number') return cidCodec;
    codec = cidCodec;
    multihashStart = at;
  }
  const code = varint();
  if (typeof code !== 'number') return code;
  const digestLength = varint();
  if (typeof digestLength !== 'number') return digestLength;
  if (version === 0 && (code !== CIDV0_SHA256 || digestLength !== CIDV0_LENGTH)) return 'a malformed CIDv0';
  if (at + digestLength > bytes.length) return SHORT;
  at += digestLength;
  const headLength = at - start;
  const cidLength = headLength - cidStart;
  if (cidLength > sectionLength) return `a section of ${sectionLength} bytes shorter than its CID`;
  return { sectionLength, headLength, cidStart, cidLength, multihashStart: multihashStart - start, multihashLength: at - multihashStart, version, codec };
}

/** The CID a section head names, for a message. */
function describeCid(bytes: Uint8Array, cidStart: number, head: SectionHead): string {
  try {
    const multihash = Digest.decode(bytes.subarray(cidStart + head.multihashStart - head.cidStart, cidStart + head.cidLength));
    return CID.create(head.version, head.codec, multihash).toString();
  } catch {
    return 'with a malformed CID';
  }
}

function describeDecodeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return /end of data|unexpected end/i.test(message) ? 'it ends in the middle of a block' : message.replace(/\.$/, '');
}

/**
 * Positioned reads of a file into one buffer, reused (grown only for a larger request): a view
 * of the bytes from a position on, read again only when the request goes past what it holds.
 */
class WindowReader {
  private buffer = new Uint8Array(HEAD_READ_BYTES);
  private start = 0;
  private length = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly size: number,
  ) {}

  /** At least min(want, bytes left) bytes from pos: `bytes` from `start` on (fewer only at the end of the file). */
  async window(pos: number, want: number): Promise<{ bytes: Uint8Array; start: number }> {
    const needed = Math.min(want, Math.max(this.size - pos, 0));
    if (pos < this.start || pos + needed > this.start + this.length) {
      const read = Math.min(Math.max(needed, HEAD_READ_BYTES), Math.max(this.size - pos, 0));
      if (read > this.buffer.length) this.buffer = new Uint8Array(read);
      let done = 0;
      while (done < read) {
        const { bytesRead } = await this.handle.read(this.buffer, done, read - done, pos + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      this.start = pos;
      this.length = done;
    }
    return { bytes: this.buffer.subarray(0, this.length), start: pos - this.start };
  }

  /** The decoder's reader (for the header): reads only what it asks for. */
  bytesReader(): BytesReader {
    let pos = 0;
    const size = this.size;
    const view = async (length: number): Promise<Uint8Array> => {
      const { bytes, start } = await this.window(pos, length);
      return bytes.subarray(start, Math.min(start + length, bytes.length));
    };
    return {
      upTo: (length: number) => view(length),
      async exactly(length: number, seek = false) {
        if (length > MAX_HEADER_BYTES) throw new Error(`a section of ${length} bytes is larger than any Hearth writes`);
        if (pos + length > size) throw new Error('Unexpected end of data');
        const out = await view(length);
        if (out.length < length) throw new Error('Unexpected end of data');
        if (seek) pos += length;
        return out;
      },
      seek(length: number) {
        pos += length;
      },
      get pos() {
        return pos;
      },
    };
  }
}
