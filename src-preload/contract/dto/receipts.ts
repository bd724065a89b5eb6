/** Answer receipts: what produced a reply, signed by the vault's wallet. */

/**
 * The signed part of an answer receipt: the EIP-712 message (src-main/core/receipts/receiptFormat.ts
 * has its types and encodings). Hashes are bytes32 hex (`0x` + 64 digits); real numbers are
 * canonical decimal strings.
 */
export interface ReceiptFields {
  threadId: string;
  messageId: string;
  /** The hash of the previous receipt in the same thread; all zeros for the first. */
  previousReceipt: string;
  /** When the reply finished, ms since the epoch. */
  createdAt: number;
  model: { name: string; sha256: string; size: number; architecture: string; quantization: string };
  runtime: {
    /** Hearth's version. */
    hearth: string;
    /** cpu, cuda, vulkan or metal. */
    backend: string;
    nodeLlamaCpp: string;
    /** The llama.cpp release node-llama-cpp's binaries were built from. */
    llamaCpp: string;
    contextSize: number;
    batchSize: number;
    threads: number;
    /** The chat wrapper that formatted the prompt, and the sha256 of the model's chat template (zeros: none). */
    chatWrapper: string;
    chatTemplateSha256: string;
  };
  sampling: {
    temperature: string;
    topP: string;
    topK: number;
    minP: string;
    seed: number;
    maxTokens: number;
    repeatPenalty: string;
    frequencyPenalty: string;
    presencePenalty: string;
    /** How many recent tokens the penalties look at, and whether a newline counts among them. */
    penaltyLastTokens: number;
    penalizeNewLine: boolean;
  };
  /** The exact token sequence given to the model: sha256 of its ids (uint32 little-endian each), and how many. */
  input: { tokensSha256: string; tokenCount: number };
  /**
   * Retrieved passages in prompt order: the chunk id (the document id when the whole document
   * was given), the document file's sha256 when it was indexed (zeros: unknown), the passage text's sha256.
   */
  passages: { id: string; documentSha256: string; textSha256: string }[];
  output: { tokensSha256: string; tokenCount: number; textSha256: string; stopReason: string };
}

/** A receipt as stored with its message and written to files. signer and signature are null until signed. */
export interface AnswerReceipt {
  domain: { name: string; version: string };
  fields: ReceiptFields;
  /** The EIP-712 digest of the fields. */
  hash: string;
  signer: string | null;
  signature: string | null;
}

/** What receipts.sign did: how many receipts it signed, and which it would not sign, with why. */
export interface ReceiptSigning {
  signed: number;
  refused: { messageId: string; reason: string }[];
}
