import { TypedDataEncoder } from 'ethers';
import { describe, expect, it } from 'vitest';
import { StructHasher } from '../../../src-main/core/receipts/typedDataHash';

const TYPES = {
  Mail: [
    { name: 'from', type: 'Person' },
    { name: 'to', type: 'Person[]' },
    { name: 'contents', type: 'string' },
    { name: 'urgent', type: 'bool' },
    { name: 'nonce', type: 'uint64' },
    { name: 'digest', type: 'bytes32' },
  ],
  Person: [
    { name: 'name', type: 'string' },
    { name: 'age', type: 'uint8' },
  ],
};
const DOMAIN = { name: 'Test', version: '7' };
const mail = {
  from: { name: 'Cow', age: 3 },
  to: [{ name: 'Bob', age: 40 }, { name: 'Ünïcode ✓', age: 255 }],
  contents: 'Hello, Bob!',
  urgent: true,
  nonce: Number.MAX_SAFE_INTEGER,
  digest: `0x${'ab'.repeat(32)}`,
};

describe('EIP-712 struct hashing on bytes', () => {
  const hasher = new StructHasher(TYPES);
  const separator = TypedDataEncoder.hashDomain(DOMAIN);

  it('computes the digest ethers computes, nested structs, arrays and every scalar kind included', () => {
    const ethers = (value: typeof mail) => TypedDataEncoder.hash(DOMAIN, TYPES, value);
    expect(hasher.digest(separator, 'Mail', mail)).toBe(ethers(mail));
    const empty = { ...mail, to: [], urgent: false, nonce: 0, contents: '' };
    expect(hasher.digest(separator, 'Mail', empty)).toBe(ethers(empty));
  });

  it('refuses values that do not fit their type, and types it does not handle', () => {
    expect(() => hasher.digest(separator, 'Mail', { ...mail, from: { name: 'x', age: 256 } })).toThrow(/not a uint8/);
    expect(() => hasher.digest(separator, 'Mail', { ...mail, nonce: -1 })).toThrow(/not a uint64/);
    expect(() => hasher.digest(separator, 'Mail', { ...mail, digest: '0xabcd' })).toThrow(/not a bytes32/);
    expect(() => new StructHasher({ A: [{ name: 'x', type: 'address' }] }).hashStruct('A', { x: '0x' })).toThrow(/not supported/);
    expect(() => hasher.hashStruct('Nope', {})).toThrow(/unknown type/);
  });
});
