/** Chats: threads, messages, search, export and import, the reply stream, generation values. */

import type { ErrorData } from '../errors';
import type { MessageRole, MessageStatus, ReceiptStatus, ThreadImportFormat } from '../vocabulary';
import type { MessageSources } from './library';

export interface ThreadSummary {
  id: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  messageCount: number;
}

export interface Message {
  id: string;
  threadId: string;
  role: MessageRole;
  content: string;
  status: MessageStatus;
  createdAt: number;
  /** The model that wrote an assistant message. */
  modelName: string | null;
  error: ErrorData | null;
  /** Assistant replies in a chat scoped to collections: what was retrieved and cited. */
  sources: MessageSources | null;
  /** Assistant replies: the answer receipt is signed by the vault's wallet, stored unsigned (sign it later), or there is none. */
  receipt: ReceiptStatus;
  /** A regenerated reply: every version of it (oldest first) and which one is shown; null when it has one version. */
  versions: MessageVersions | null;
}

/** The versions of a reply kept by regenerate: the chosen one is what later turns see. */
export interface MessageVersions {
  ids: string[];
  index: number;
}

/** A piece of a search hit's excerpt: hit is true for the words that matched. */
export interface SnippetPart {
  text: string;
  hit: boolean;
}

/** One message found by chat search. */
export interface ChatSearchHit {
  threadId: string;
  threadTitle: string;
  messageId: string;
  role: MessageRole;
  createdAt: number;
  snippet: SnippetPart[];
}

/** An exported chat (or every chat) as a file to save. */
export interface ThreadExport {
  fileName: string;
  mimeType: string;
  content: string;
}

/** What an import added. */
export interface ThreadImportResult {
  format: ThreadImportFormat;
  threads: ThreadSummary[];
}

export interface ContextUsage {
  /** Tokens the prompt plus reply occupied. */
  used: number;
  total: number;
  /** Messages left out of the model's context because the history did not fit. */
  droppedMessageIds: string[];
}

export interface Thread extends ThreadSummary {
  systemPrompt: string;
  /** Collections this chat answers from; empty for a plain chat. */
  collectionIds: string[];
  messages: Message[];
  context: ContextUsage | null;
}

export interface SendResult {
  userMessageId: string;
  assistantMessageId: string;
}

export type ChatStreamEvent =
  /** sources: what was retrieved for the reply in a chat scoped to collections, else null. */
  | { type: 'start'; threadId: string; messageId: string; context: ContextUsage; sources: MessageSources | null }
  /**
   * text is the next piece of the reply: one token's text, or several (a transport may merge them).
   * used: the context the prompt and the reply so far take, in tokens (a live context meter).
   */
  | { type: 'token'; threadId: string; messageId: string; text: string; used?: number }
  /**
   * saveError: set when the reply could not be saved (a full disk). It is kept in memory, shown
   * as it is, and saved as soon as a write succeeds again.
   */
  | { type: 'end'; threadId: string; message: Message; context: ContextUsage; tokensPerSecond: number; saveError?: ErrorData };

/** How a reply is sampled: the saved defaults, a thread's overrides, a preset's values. */
export interface GenerationParams {
  temperature: number;
  /** Nucleus sampling: only the most likely tokens whose probabilities add up to this. */
  topP: number;
  /** Only the K most likely tokens; 0 turns the limit off. */
  topK: number;
  /** Divides a recently used token's probability; 1 turns it off. */
  repeatPenalty: number;
  maxReplyTokens: number;
}

/** A named system prompt with sampling values, applied to a chat in one step. */
export interface GenerationPreset {
  id: string;
  name: string;
  systemPrompt: string;
  /** Only the values the preset sets; the rest follow the saved defaults. */
  params: Partial<GenerationParams>;
}

/** What one chat sets for itself (null: it follows the saved defaults) and what it gets. */
export interface ThreadGeneration {
  threadId: string;
  overrides: Partial<GenerationParams> | null;
  effective: GenerationParams;
}
