import { createHash } from 'node:crypto';
import { TypedDataEncoder, getAddress, recoverAddress, type SigningKey } from 'ethers';
import { z } from 'zod';
import type { AnswerReceipt, ReceiptFields, ReceiptStatus } from '#contract/dto';
import { HearthError } from '../common/hearthError';
import { StructHasher, type TypeField } from './typedDataHash';

/**
 * The answer receipt: what produced a reply, as EIP-712 typed data that the vault's wallet
 * signs. The stored receipt is the typed-data message itself (`fields`), so what is kept is
 * exactly what is signed; its hash is the EIP-712 digest (TypedDataEncoder.hash), which is
 * also what the next receipt in the thread names as `previousReceipt`.
 *
 * Encodings, fixed so anyone can recompute them:
 * - every sha256 is a bytes32, written `0x` + 64 lower-case hex digits;
 * - a token sequence's hash is the sha256 of its ids as consecutive 4-byte little-endian
 *   unsigned integers (tokenIdsSha256);
 * - a text's hash is the sha256 of its UTF-8 bytes (textSha256);
 * - real numbers (temperature, top-p, penalties) are decimal strings, JavaScript's shortest
 *   round-trip form (`String(0.7)` is "0.7"), so the value read back is the value used;
 * - no chain id: a receipt is an attestation, not a transaction, and belongs to no chain.
 */

/** The EIP-712 domain: "Hearth", this format's version, no chain id and no contract. */
export const RECEIPT_DOMAIN = Object.freeze({ name: 'Hearth', version: '1' });

/** A bytes32 of zeros: "none" where a hash is expected (no chat template, no document hash). */
export const ZERO_BYTES32 = `0x${'0'.repeat(64)}`;

/** The previousReceipt of a thread's first receipt. */
export const NO_PREVIOUS_RECEIPT = ZERO_BYTES32;

/** The EIP-712 types of a receipt (EIP712Domain is derived from RECEIPT_DOMAIN by ethers). */
export const RECEIPT_TYPES: Readonly<Record<string, readonly TypeField[]>> = Object.freeze({
  Receipt: [
    { name: 'threadId', type: 'string' },
    { name: 'messageId', type: 'string' },
    { name: 'previousReceipt', type: 'bytes32' },
    { name: 'createdAt', type: 'uint64' },
    { name: 'model', type: 'Model' },
    { name: 'runtime', type: 'Runtime' },
    { name: 'sampling', type: 'Sampling' },
    { name: 'input', type: 'Input' },
    { name: 'passages', type: 'Passage[]' },
    { name: 'output', type: 'Output' },
  ],
  Model: [
    { name: 'name', type: 'string' },
    { name: 'sha256', type: 'bytes32' },
    { name: 'size', type: 'uint64' },
    { name: 'architecture', type: 'string' },
    { name: 'quantization', type: 'string' },
  ],
  Runtime: [
    { name: 'hearth', type: 'string' },
    { name: 'backend', type: 'string' },
    { name: 'nodeLlamaCpp', type: 'string' },
    { name: 'llamaCpp', type: 'string' },
    { name: 'contextSize', type: 'uint32' },
    { name: 'batchSize', type: 'uint32' },
    { name: 'threads', type: 'uint32' },
    { name: 'chatWrapper', type: 'string' },
    { name: 'chatTemplateSha256', type: 'bytes32' },
  ],
  Sampling: [
    { name: 'temperature', type: 'string' },
    { name: 'topP', type: 'string' },
    { name: 'topK', type: 'uint32' },
    { name: 'minP', type: 'string' },
    { name: 'seed', type: 'uint32' },
    { name: 'maxTokens', type: 'uint32' },
    { name: 'repeatPenalty', type: 'string' },
    { name: 'frequencyPenalty', type: 'string' },
    { name: 'presencePenalty', type: 'string' },
    { name: 'penaltyLastTokens', type: 'uint32' },
    { name: 'penalizeNewLine', type: 'bool' },
  ],
  Input: [
    { name: 'tokensSha256', type: 'bytes32' },
    { name: 'tokenCount', type: 'uint32' },
  ],
  Passage: [
    { name: 'id', type: 'string' },
    { name: 'documentSha256', type: 'bytes32' },
    { name: 'textSha256', type: 'bytes32' },
  ],
  Output: [
    { name: 'tokensSha256', type: 'bytes32' },
    { name: 'tokenCount', type: 'uint32' },
    { name: 'textSha256', type: 'bytes32' },
    { name: 'stopReason', type: 'string' },
  ],
});

// ---- Validation of receipts read back (SQLite, a file, a bundle) ----

const bytes32 = z.string().regex(/^0x[0-9a-f]{64}$/, 'a bytes32: 0x and 64 lower-case hex digits');
const uint32 = z.number().int().min(0).max(0xffff_ffff);
const uint64 = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** A finite number in its canonical decimal form: String(Number(s)) === s. */
const decimalString = z.string().refine((s) => Number.isFinite(Number(s)) && String(Number(s)) === s, 'a decimal number in canonical form');
const address = z.string().refine((s) => /^0x[0-9a-fA-F]{40}$/.test(s) && getAddress(s) === s, 'a checksummed address');
const signature = z.string().regex(/^0x[0-9a-f]{130}$/, 'a 65-byte signature in lower-case hex');

export const receiptFieldsSchema = z.strictObject({
  threadId: z.string().min(1),
  messageId: z.string().min(1),
  previousReceipt: bytes32,
  createdAt: uint64,
  model: z.strictObject({ name: z.string(), sha256: bytes32, size: uint64, architecture: z.string(), quantization: z.string() }),
  runtime: z.strictObject({
    hearth: z.string(),
    backend: z.string(),
    nodeLlamaCpp: z.string(),
    llamaCpp: z.string(),
    contextSize: uint32,
    batchSize: uint32,
    threads: uint32,
    chatWrapper: z.string(),
    chatTemplateSha256: bytes32,
  }),
  sampling: z.strictObject({
    temperature: decimalString,
    topP: decimalString,
    topK: uint32,
    minP: decimalString,
    seed: uint32,
    maxTokens: uint32,
    repeatPenalty: decimalString,
    frequencyPenalty: decimalString,
    presencePenalty: decimalString,
    penaltyLastTokens: uint32,
    penalizeNewLine: z.boolean(),
  }),
  input: z.strictObject({ tokensSha256: bytes32, tokenCount: uint32 }),
  passages: z.array(z.strictObject({ id: z.string().min(1), documentSha256: bytes32, textSha256: bytes32 })),
  output: z.strictObject({ tokensSha256: bytes32, tokenCount: uint32, textSha256: bytes32, stopReason: z.string() }),
}) satisfies z.ZodType<ReceiptFields>;

export const answerReceiptSchema = z
  .strictObject({
    domain: z.strictObject({ name: z.literal(RECEIPT_DOMAIN.name), version: z.literal(RECEIPT_DOMAIN.version) }),
    fields: receiptFieldsSchema,
    hash: bytes32,
    signer: address.nullable(),
    signature: signature.nullable(),
  })
  .refine((r) => (r.signer === null) === (r.signature === null), 'signer and signature are both set or both null') satisfies z.ZodType<AnswerReceipt>;

/**
 * A receipt read back from storage or a file: its shape is checked and its hash recomputed.
 * Anything else is RECEIPT_INVALID. (A signature is checked by recover, not here.)
 */
export function parseReceipt(value: unknown, where: string): AnswerReceipt {
  const parsed = answerReceiptSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    throw new HearthError('RECEIPT_INVALID', `The receipt in ${where} is not a valid Hearth receipt${at}: ${issue?.message ?? 'bad shape'}.`);
  }
  const receipt = parsed.data;
  const recomputed = hashFields(receipt.fields);
  if (recomputed !== receipt.hash) {
    throw new HearthError('RECEIPT_INVALID', `The receipt in ${where} names hash ${receipt.hash}, but its fields hash to ${recomputed}: a field was changed.`);
  }
  return receipt;
}

// ---- Pure functions: build, hash, sign, recover ----

// Built once, at the first receipt hashed (not as the module loads: ~15 ms of keccak in
// JavaScript that every command paid, most of them hashing no receipt): the domain separator,
// and the type hashes of every struct.
let built: { domainSeparator: string; hasher: StructHasher } | null = null;
const receiptHashing = () => (built ??= { domainSeparator: TypedDataEncoder.hashDomain(RECEIPT_DOMAIN), hasher: new StructHasher(RECEIPT_TYPES) });

/**
 * The EIP-712 digest of receipt fields (what is signed, and what the next receipt chains to):
 * keccak256(0x1901 ‖ domain separator ‖ hashStruct(Receipt)), the digest TypedDataEncoder.hash
 * and every EIP-712 wallet compute (tests/unit/receipts checks it against both).
 */
export function hashFields(fields: ReceiptFields): string {
  const { hasher, domainSeparator } = receiptHashing();
  return hasher.digest(domainSeparator, 'Receipt', fields as unknown as Record<string, unknown>);
}

/** A receipt for these fields (checked against the schema), signed when a wallet is given. */
export function buildReceipt(fields: ReceiptFields, wallet: ReceiptWallet | null = null): AnswerReceipt {
  const checked = receiptFieldsSchema.safeParse(fields);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new HearthError('INTERNAL', `Receipt fields are malformed at ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'bad shape'}.`);
  }
  const hash = hashFields(checked.data);
  return { domain: { ...RECEIPT_DOMAIN }, fields: checked.data, hash, ...(wallet ? signatureOf(hash, wallet) : { signer: null, signature: null }) };
}

/** The receipt's hash, recomputed from its fields (never trusted from the stored `hash`). */
export function hashReceipt(receipt: AnswerReceipt): string {
  return hashFields(receipt.fields);
}

/** What signs receipts: the vault's wallet (an ethers Wallet or HDNodeWallet is one). */
export interface ReceiptWallet {
  readonly address: string;
  readonly signingKey: Pick<SigningKey, 'sign'>;
}

function signatureOf(hash: string, wallet: ReceiptWallet): { signer: string; signature: string } {
  return { signer: getAddress(wallet.address), signature: wallet.signingKey.sign(hash).serialized.toLowerCase() };
}

/** The receipt signed by this wallet (a new object; the fields are unchanged, the hash recomputed from them). */
export function signReceipt(receipt: AnswerReceipt, wallet: ReceiptWallet): AnswerReceipt {
  const hash = hashReceipt(receipt);
  return { ...receipt, hash, ...signatureOf(hash, wallet) };
}

/**
 * The address that signed the receipt, recovered from its signature over the fields as they
 * are now (a changed field recovers some other address). SIGNATURE_INVALID when unsigned or
 * when the signature cannot be parsed.
 */
export function recoverSigner(receipt: AnswerReceipt): string {
  if (!receipt.signature) throw new HearthError('SIGNATURE_INVALID', 'This receipt is not signed.');
  try {
    return recoverAddress(hashReceipt(receipt), receipt.signature);
  } catch (error) {
    throw new HearthError('SIGNATURE_INVALID', `The receipt's signature cannot be read: ${(error as Error).message}`, { cause: error });
  }
}

/** True when the receipt is signed and its signature recovers the signer it names. */
export function isValidlySigned(receipt: AnswerReceipt): boolean {
  if (!receipt.signature || !receipt.signer) return false;
  try {
    return recoverSigner(receipt) === receipt.signer;
  } catch {
    return false;
  }
}

export function receiptStatus(receipt: AnswerReceipt | null): ReceiptStatus {
  if (!receipt) return 'none';
  return receipt.signature ? 'signed' : 'unsigned';
}

// ---- Hashing helpers for the fields ----

/** sha256 of bytes, as a bytes32. */
export function sha256Bytes32(data: Uint8Array | string): string {
  return `0x${createHash('sha256').update(data).digest('hex')}`;
}

/** A plain hex sha256 (as the library and the downloads store them) as a bytes32. */
export function hexToBytes32(hex: string): string {
  const bare = hex.toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]{64}$/.test(bare)) throw new HearthError('INTERNAL', `Not a sha256: ${hex}`);
  return `0x${bare}`;
}

/** sha256 of the UTF-8 bytes of a text. */
export function textSha256(text: string): string {
  return sha256Bytes32(Buffer.from(text, 'utf8'));
}

/** sha256 of token ids, each as a 4-byte little-endian unsigned integer. */
export function tokenIdsSha256(tokens: readonly number[]): string {
  const bytes = Buffer.allocUnsafe(tokens.length * 4);
  tokens.forEach((token, i) => bytes.writeUInt32LE(token, i * 4));
  return sha256Bytes32(bytes);
}

/** A real number as the receipt writes it (shortest round-trip decimal); finite only. */
export function decimal(value: number): string {
  if (!Number.isFinite(value)) throw new HearthError('INTERNAL', `Not a finite number: ${value}`);
  return String(value);
}

// ---- The signer port: how the chat reaches the vault's wallet without importing the vault ----

/**
 * The wallet that signs receipts, as the chat sees it: the unlocked wallet, 'locked' when a
 * wallet exists but is locked (receipts are stored unsigned and signed later), or null when
 * there is no wallet (no receipts are made).
 */
export interface ReceiptSigner {
  current(): Promise<ReceiptWallet | 'locked' | null>;
}
