import { describe, expect, it } from 'vitest';
import { parseCachedChunks } from '../../../src-main/core/vault/filesCache';

const ID = 'ab'.repeat(32);
const chunk = { cid: 'bafkreiexample', size: 65_536, id: ID, sealedSize: 65_600 };

/** The files cache's chunk lists are read at every snapshot; anything off means "read the file again". */
describe('parseCachedChunks: a files cache entry, checked field by field', () => {
  it('reads a list of whole chunks and of pack slices, keeping only the known fields', () => {
    const text = JSON.stringify([chunk, { ...chunk, offset: 0 }, { ...chunk, offset: 4096, extra: 'dropped' }]);
    expect(parseCachedChunks(text)).toEqual([chunk, { ...chunk, offset: 0 }, { ...chunk, offset: 4096 }]);
    expect(parseCachedChunks('[]')).toEqual([]);
  });

  it.each([
    ['not JSON', '[{'],
    ['not a list', JSON.stringify(chunk)],
    ['an item that is not an object', JSON.stringify([chunk, 3])],
    ['an empty cid', JSON.stringify([{ ...chunk, cid: '' }])],
    ['a size of 0', JSON.stringify([{ ...chunk, size: 0 }])],
    ['a fractional size', JSON.stringify([{ ...chunk, size: 1.5 }])],
    ['a size given as text', JSON.stringify([{ ...chunk, size: '65536' }])],
    ['an id in upper case', JSON.stringify([{ ...chunk, id: ID.toUpperCase() }])],
    ['a short id', JSON.stringify([{ ...chunk, id: ID.slice(2) }])],
    ['a negative offset', JSON.stringify([{ ...chunk, offset: -1 }])],
    ['an offset of null', JSON.stringify([{ ...chunk, offset: null }])],
    ['no sealed size', JSON.stringify([{ cid: chunk.cid, size: chunk.size, id: ID }])],
  ])('refuses %s', (_what, text) => {
    expect(parseCachedChunks(text)).toBeNull();
  });
});
