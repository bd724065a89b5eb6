import type { AnswerReceipt, ContextUsage, Message, MessageSources, MessageStatus } from '#contract/dto';
import type { ErrorData } from '#contract/errors';
import { toErrorData } from '../common/hearthError';
import type { Logger } from '../common/logger';
import { receiptStatus } from '../receipts/receiptFormat';
import type { ThreadRepository } from '../storage/threadRepository';

/** How often replies that could not be saved are tried again while some wait. */
const RETRY_MS = 5000;

interface FinalReply {
  threadId: string;
  content: string;
  status: MessageStatus;
  error: ErrorData | null;
  /** Sources that could not be saved when they were retrieved; undefined when they were. */
  sources?: MessageSources | null;
  context: ContextUsage | null;
  /** The reply's answer receipt; null when it has none. Written with the reply, in one transaction. */
  receipt: AnswerReceipt | null;
}

/**
 * Writes a reply as it streams and when it ends, and keeps what SQLite cannot take (a full
 * disk). A reply whose final write fails is not lost: it is kept in memory, read back in place
 * of its stale row (so every front end shows it), and written when a later write succeeds or
 * on a timer. A reply whose writes fail logs once, not once per token.
 */
export class ReplySaver {
  private readonly pending = new Map<string, FinalReply>();
  /** Replies whose partial writes failed and were logged: no second log line for them. */
  private readonly warned = new Set<string>();
  /** Sources a reply could not save while it streams, kept for its final write. */
  private readonly unsavedSources = new Map<string, MessageSources | null>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly threads: ThreadRepository,
    private readonly logger: Logger,
    /** Told when a kept reply is finally saved, so front ends read it again. */
    private readonly onSaved: (threadId: string) => void,
  ) {}

  /** Saves the text written so far; a failure is logged once and otherwise ignored (the final write tries again). */
  progress(messageId: string, text: string): void {
    this.attempt(messageId, () => this.threads.setMessageContent(messageId, text));
  }

  sources(messageId: string, sources: MessageSources | null): void {
    if (!this.attempt(messageId, () => this.threads.setMessageSources(messageId, sources))) this.unsavedSources.set(messageId, sources);
  }

  /**
   * Saves the reply's final state. Returns the message as it now stands and, when it could not
   * be saved, why: the reply is then kept and saved later.
   */
  finish(messageId: string, reply: Omit<FinalReply, 'sources'>): { message: Message; saveError: ErrorData | null } {
    const final: FinalReply = this.unsavedSources.has(messageId) ? { ...reply, sources: this.unsavedSources.get(messageId) } : reply;
    this.unsavedSources.delete(messageId);
    try {
      this.write(messageId, final);
    } catch (error) {
      const data = toErrorData(error);
      if (!this.warned.has(messageId)) this.logger.warn(`the reply ${messageId} could not be saved (${data.code}: ${data.message}); it is kept in memory and saved when possible`);
      this.warned.delete(messageId);
      this.pending.set(messageId, final);
      this.schedule();
      const saveError: ErrorData = {
        code: data.code,
        message: `This reply could not be saved: ${data.message} It is kept while Hearth runs and saved as soon as it can be.`,
      };
      return { message: this.overlay([this.stored(messageId, final)])[0]!, saveError };
    }
    this.warned.delete(messageId);
    this.retry();
    return { message: this.threads.message(messageId)!, saveError: null };
  }

  /** Messages as read from SQLite, with the replies still waiting to be saved in place of their rows. */
  overlay(messages: Message[]): Message[] {
    if (this.pending.size === 0) return messages;
    return messages.map((message) => {
      const kept = this.pending.get(message.id);
      if (!kept) return message;
      const { threadId: _t, context: _c, sources, receipt, ...shown } = kept;
      return { ...message, ...shown, ...(sources !== undefined ? { sources } : {}), receipt: receiptStatus(receipt) };
    });
  }

  /** The latest receipt of the thread still waiting to be saved (the next receipt chains to it), or null. */
  latestReceipt(threadId: string): AnswerReceipt | null {
    let latest: AnswerReceipt | null = null;
    for (const kept of this.pending.values()) if (kept.threadId === threadId && kept.receipt) latest = kept.receipt;
    return latest;
  }

  /** Tries once more to save what waits (at quit); what still cannot be saved is logged as lost. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.retry();
    for (const id of this.pending.keys()) this.logger.error(`the reply ${id} could not be saved before Hearth stopped; its text is lost`);
    this.pending.clear();
  }

  private stored(messageId: string, final: FinalReply): Message {
    try {
      const message = this.threads.message(messageId);
      if (message) return message;
    } catch {
      // Reading failed too: the reply is shown from memory alone.
    }
    return { id: messageId, threadId: final.threadId, role: 'assistant', content: '', status: 'streaming', createdAt: Date.now(), modelName: null, error: null, sources: null, receipt: 'none', versions: null };
  }

  private write(messageId: string, final: FinalReply): void {
    this.threads.transaction(() => {
      this.threads.finishMessage(messageId, { content: final.content, status: final.status, error: final.error });
      if (final.sources !== undefined) this.threads.setMessageSources(messageId, final.sources);
      if (final.context) this.threads.update(final.threadId, { context: final.context });
      if (final.receipt) this.threads.setMessageReceipt(messageId, final.receipt);
    });
  }

  private attempt(messageId: string, write: () => void): boolean {
    try {
      write();
      return true;
    } catch (error) {
      if (!this.warned.has(messageId)) {
        this.warned.add(messageId);
        const { code, message } = toErrorData(error);
        this.logger.warn(`the reply ${messageId} is not being saved as it streams (${code}: ${message}); it is kept in memory`);
      }
      return false;
    }
  }

  private retry(): void {
    for (const [id, final] of this.pending) {
      try {
        this.write(id, final);
      } catch {
        this.schedule();
        return;
      }
      this.pending.delete(id);
      this.logger.info(`the reply ${id} is saved now`);
      this.onSaved(final.threadId);
    }
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.retry();
    }, RETRY_MS);
    this.timer.unref?.();
  }
}
