import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';

/**
 * EIP-712 hashStruct for a fixed table of types, on bytes: the type hashes are computed once,
 * and each value is encoded straight into 32-byte words. It handles the types receipts use
 * (string, bool, bytes32, uintN, structs and arrays of structs) and refuses anything else.
 * ethers' TypedDataEncoder computes the same digest, but through hex strings and a generic
 * encoder, several times slower: a receipt is made with every reply, so this one is used, and
 * the tests check both (and the specification written out) agree.
 */

export interface TypeField {
  name: string;
  type: string;
}
type Types = Readonly<Record<string, readonly TypeField[]>>;

/** encodeType: the primary type, then the types it references, sorted by name. */
function encodeType(primary: string, types: Types): string {
  const found = new Set<string>();
  const walk = (name: string) => {
    for (const field of types[name] ?? []) {
      const base = field.type.replace(/\[\]$/, '');
      if (types[base] && base !== primary && !found.has(base)) {
        found.add(base);
        walk(base);
      }
    }
  };
  walk(primary);
  const one = (name: string) => `${name}(${(types[name] ?? []).map((f) => `${f.type} ${f.name}`).join(',')})`;
  return [primary, ...[...found].sort()].map(one).join('');
}

function uintWord(value: unknown, bits: number): Uint8Array {
  const n = typeof value === 'bigint' ? value : BigInt(value as number);
  if (n < 0n || n >= 1n << BigInt(bits)) throw new RangeError(`${String(value)} is not a uint${bits}`);
  return hexToBytes(n.toString(16).padStart(64, '0'));
}

export class StructHasher {
  private readonly typeHashes = new Map<string, Uint8Array>();

  constructor(private readonly types: Types) {
    for (const name of Object.keys(types)) this.typeHashes.set(name, keccak_256(utf8ToBytes(encodeType(name, types))));
  }

  /** hashStruct(name, value) as bytes. */
  hashStruct(name: string, value: Readonly<Record<string, unknown>>): Uint8Array {
    const fields = this.types[name];
    if (!fields) throw new TypeError(`unknown type ${name}`);
    const out = new Uint8Array(32 * (fields.length + 1));
    out.set(this.typeHashes.get(name)!, 0);
    fields.forEach((field, i) => out.set(this.encodeValue(field.type, value[field.name]), 32 * (i + 1)));
    return keccak_256(out);
  }

  /** The EIP-712 digest: keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(primary, value)), as 0x-hex. */
  digest(domainSeparator: string, primary: string, value: Readonly<Record<string, unknown>>): string {
    const bytes = new Uint8Array(66);
    bytes[0] = 0x19;
    bytes[1] = 0x01;
    bytes.set(hexToBytes(domainSeparator.slice(2)), 2);
    bytes.set(this.hashStruct(primary, value), 34);
    return `0x${bytesToHex(keccak_256(bytes))}`;
  }

  private encodeValue(type: string, value: unknown): Uint8Array {
    if (type.endsWith('[]')) {
      const inner = type.slice(0, -2);
      const items = value as readonly unknown[];
      const all = new Uint8Array(32 * items.length);
      items.forEach((item, i) => all.set(this.encodeValue(inner, item), 32 * i));
      return keccak_256(all);
    }
    if (this.types[type]) return this.hashStruct(type, value as Record<string, unknown>);
    if (type === 'string') return keccak_256(utf8ToBytes(value as string));
    if (type === 'bytes32') {
      const bytes = hexToBytes((value as string).slice(2));
      if (bytes.length !== 32) throw new RangeError(`${String(value)} is not a bytes32`);
      return bytes;
    }
    if (type === 'bool') return uintWord(value ? 1 : 0, 8);
    const uint = /^uint(\d+)$/.exec(type);
    if (uint) return uintWord(value, Number(uint[1]));
    throw new TypeError(`the type ${type} is not supported here`);
  }
}
