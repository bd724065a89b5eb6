import { AbiCoder, Wallet, keccak256, toUtf8Bytes, verifyTypedData, type TypedDataField } from 'ethers';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AnswerReceipt, ReceiptFields } from '#contract/dto';
import { HearthError } from '../../../src-main/core/common/hearthError';
import {
  NO_PREVIOUS_RECEIPT,
  RECEIPT_DOMAIN,
  RECEIPT_TYPES,
  buildReceipt,
  decimal,
  hashReceipt,
  isValidlySigned,
  parseReceipt,
  receiptStatus,
  recoverSigner,
  signReceipt,
  textSha256,
  tokenIdsSha256,
} from '../../../src-main/core/receipts/receiptFormat';
import { receiptMutations } from '../../support/receiptMutations';

const sha = (s: string) => `0x${createHash('sha256').update(s).digest('hex')}`;
const wallet = Wallet.fromPhrase('test test test test test test test test test test test junk');

function fields(): ReceiptFields {
  return {
    threadId: 'thr_1',
    messageId: 'msg_2',
    previousReceipt: NO_PREVIOUS_RECEIPT,
    createdAt: 1_780_000_000_000,
    model: { name: 'stories260K', sha256: sha('model'), size: 1_185_376, architecture: 'llama', quantization: 'F32' },
    runtime: {
      hearth: '0.1.0',
      backend: 'cpu',
      nodeLlamaCpp: '3.21.1',
      llamaCpp: 'b7000',
      contextSize: 512,
      batchSize: 512,
      threads: 2,
      chatWrapper: 'General',
      chatTemplateSha256: NO_PREVIOUS_RECEIPT,
    },
    sampling: {
      temperature: decimal(0.7),
      topP: decimal(0.95),
      topK: 40,
      minP: decimal(0.05),
      seed: 4_000_000_000,
      maxTokens: 256,
      repeatPenalty: decimal(1.1),
      frequencyPenalty: decimal(0),
      presencePenalty: decimal(0),
      penaltyLastTokens: 64,
      penalizeNewLine: false,
    },
    input: { tokensSha256: tokenIdsSha256([1, 2, 3]), tokenCount: 3 },
    passages: [
      { id: 'chunk_a', documentSha256: sha('doc a'), textSha256: textSha256('passage a') },
      { id: 'chunk_b', documentSha256: sha('doc b'), textSha256: textSha256('passage b') },
    ],
    output: { tokensSha256: tokenIdsSha256([4, 5]), tokenCount: 2, textSha256: textSha256('Hello'), stopReason: 'eogToken' },
  };
}

// ---- EIP-712 written out from the specification, to check the encoder independently ----

function encodeType(primary: string, types: Record<string, readonly TypedDataField[]>): string {
  const deps = new Set<string>();
  const walk = (name: string) => {
    for (const field of types[name] ?? []) {
      const base = field.type.replace(/\[\]$/, '');
      if (types[base] && !deps.has(base) && base !== primary) {
        deps.add(base);
        walk(base);
      }
    }
  };
  walk(primary);
  const one = (name: string) => `${name}(${(types[name] ?? []).map((f) => `${f.type} ${f.name}`).join(',')})`;
  return [primary, ...[...deps].sort()].map(one).join('');
}

function hashStruct(name: string, value: Record<string, unknown>, types: Record<string, readonly TypedDataField[]>): string {
  const abi = AbiCoder.defaultAbiCoder();
  const encodeValue = (type: string, v: unknown): string => {
    if (type.endsWith('[]')) {
      const inner = type.slice(0, -2);
      return keccak256(`0x${(v as unknown[]).map((item) => encodeValue(inner, item).slice(2)).join('')}`);
    }
    if (types[type]) return hashStruct(type, v as Record<string, unknown>, types);
    if (type === 'string') return keccak256(toUtf8Bytes(v as string));
    return abi.encode([type], [v]);
  };
  const typeHash = keccak256(toUtf8Bytes(encodeType(name, types)));
  const encoded = (types[name] ?? []).map((f) => encodeValue(f.type, value[f.name]).slice(2)).join('');
  return keccak256(`${typeHash}${encoded}`);
}

function specDigest(f: ReceiptFields): string {
  const domainTypes = { EIP712Domain: [{ name: 'name', type: 'string' }, { name: 'version', type: 'string' }] };
  const domainSeparator = hashStruct('EIP712Domain', { ...RECEIPT_DOMAIN }, domainTypes);
  const message = hashStruct('Receipt', f as unknown as Record<string, unknown>, RECEIPT_TYPES);
  return keccak256(`0x1901${domainSeparator.slice(2)}${message.slice(2)}`);
}

function thrown(fn: () => unknown): HearthError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HearthError);
    return error as HearthError;
  }
  throw new Error('expected a throw');
}

describe('answer receipts: format', () => {
  it('hashes fields as EIP-712 typed data, exactly as the specification computes it', () => {
    const receipt = buildReceipt(fields());
    expect(receipt.hash).toBe(specDigest(fields()));
    expect(hashReceipt(receipt)).toBe(receipt.hash);
    expect(receipt.domain).toEqual({ name: 'Hearth', version: '1' });
    expect(receiptStatus(receipt)).toBe('unsigned');
    expect(receiptStatus(null)).toBe('none');
  });

  it('signs with the wallet and recovers its address; the signature is standard signTypedData', async () => {
    const signed = signReceipt(buildReceipt(fields()), wallet);
    expect(signed.signer).toBe(wallet.address);
    expect(recoverSigner(signed)).toBe(wallet.address);
    expect(isValidlySigned(signed)).toBe(true);
    expect(receiptStatus(signed)).toBe('signed');
    const types = Object.fromEntries(Object.entries(RECEIPT_TYPES).map(([k, v]) => [k, [...v]]));
    expect(signed.signature).toBe((await wallet.signTypedData(RECEIPT_DOMAIN, types, fields())).toLowerCase());
    expect(verifyTypedData(RECEIPT_DOMAIN, types, fields(), signed.signature!)).toBe(wallet.address);
    expect(parseReceipt(JSON.parse(JSON.stringify(signed)), 'a test')).toEqual(signed);
  });

  it('a changed byte in any field breaks the signature and the stored hash', () => {
    const signed = signReceipt(buildReceipt(fields()), wallet);
    const all = receiptMutations(fields());
    expect(all.length).toBe(41);
    for (const { path, changed } of all) {
      const tampered: AnswerReceipt = { ...signed, fields: changed };
      expect(recoverSigner(tampered), path).not.toBe(wallet.address);
      expect(isValidlySigned(tampered), path).toBe(false);
      const error = thrown(() => parseReceipt(JSON.parse(JSON.stringify(tampered)), 'a test'));
      expect(error.code, path).toBe('RECEIPT_INVALID');
    }
  });

  it('reordered or dropped passages change the hash', () => {
    const base = buildReceipt(fields()).hash;
    const reordered = fields();
    reordered.passages.reverse();
    const dropped = fields();
    dropped.passages.pop();
    expect(buildReceipt(reordered).hash).not.toBe(base);
    expect(buildReceipt(dropped).hash).not.toBe(base);
  });

  it('rejects malformed receipts with RECEIPT_INVALID and says where', () => {
    const good = JSON.parse(JSON.stringify(signReceipt(buildReceipt(fields()), wallet))) as Record<string, unknown>;
    const cases: [string, (r: Record<string, unknown>) => void, RegExp][] = [
      ['no signer but a signature', (r) => (r.signer = null), /both set or both null/],
      ['an unknown field', (r) => ((r.fields as Record<string, unknown>).extra = 1), /Unrecognized key/i],
      ['a bad sha256', (r) => ((r.fields as ReceiptFields).model.sha256 = '0x12'), /at fields\.model\.sha256/],
      ['a non-canonical decimal', (r) => ((r.fields as ReceiptFields).sampling.temperature = '0.70'), /at fields\.sampling\.temperature/],
      ['another domain', (r) => (r.domain = { name: 'Other', version: '1' }), /at domain\.name/],
      ['a lower-case address', (r) => (r.signer = wallet.address.toLowerCase()), /at signer/],
    ];
    for (const [label, change, message] of cases) {
      const copy = structuredClone(good);
      change(copy);
      const error = thrown(() => parseReceipt(copy, 'a test'));
      expect(error.code, label).toBe('RECEIPT_INVALID');
      expect(error.message, label).toMatch(message);
    }
  });

  it('an unsigned receipt does not recover, and a wrong signer is told apart', () => {
    const unsigned = buildReceipt(fields());
    expect(thrown(() => recoverSigner(unsigned)).code).toBe('SIGNATURE_INVALID');
    const other = Wallet.createRandom();
    const signed = signReceipt(unsigned, wallet);
    const forged: AnswerReceipt = { ...signReceipt(unsigned, other), signer: wallet.address };
    expect(isValidlySigned(signed)).toBe(true);
    expect(isValidlySigned(forged)).toBe(false);
    expect(recoverSigner(forged)).toBe(other.address);
  });

  it('hashes token ids as little-endian uint32 and real numbers as round-trip decimals', () => {
    expect(tokenIdsSha256([1, 256])).toBe(`0x${createHash('sha256').update(Buffer.from([1, 0, 0, 0, 0, 1, 0, 0])).digest('hex')}`);
    expect(textSha256('é')).toBe(`0x${createHash('sha256').update(Buffer.from([0xc3, 0xa9])).digest('hex')}`);
    for (const n of [0, 0.7, 0.1 + 0.2, 1e-7, 1.1]) expect(Number(decimal(n))).toBe(n);
    expect(thrown(() => decimal(Number.NaN)).code).toBe('INTERNAL');
  });
});
