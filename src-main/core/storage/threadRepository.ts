import { z } from 'zod';
import type { AnswerReceipt, Citation, ContextUsage, Message, MessageRole, MessageSources, MessageStatus, MessageVersions, ReceiptStatus, ThreadSummary } from '#contract/dto';
import { isErrorCode, type ErrorData } from '#contract/errors';
import { RETRIEVAL_MODES } from '#contract/vocabulary';
import { newId } from '../common/ids';
import { createConsoleLogger, type Logger } from '../common/logger';
import type { Db } from './database';
import { StoredJsonReader } from './storedJson';

export interface ThreadRow {
  id: string;
  title: string;
  systemPrompt: string;
  context: ContextUsage | null;
  createdAt: number;
  updatedAt: number;
}

interface RawThread {
  id: string;
  title: string;
  system_prompt: string;
  context_json: string | null;
  created_at: number;
  updated_at: number;
}

interface RawMessage {
  id: string;
  thread_id: string;
  role: MessageRole;
  content: string;
  status: MessageStatus;
  model_name: string | null;
  error_code: string | null;
  error_message: string | null;
  sources_json: string | null;
  created_at: number;
  alt_group: string | null;
  hidden: number;
  /** Computed by MESSAGE_SELECT from receipt_json. */
  receipt_status: ReceiptStatus;
}

/** A stored receipt, as text: the receipts module parses and checks it. */
export interface StoredReceipt {
  messageId: string;
  threadId: string;
  json: string;
}

/**
 * Messages with their receipt's status, read from the JSON without parsing it in JavaScript. A
 * receipt that is not JSON at all reads as none (verifying it says why).
 */
const MESSAGE_SELECT = `SELECT m.*, CASE
    WHEN m.receipt_json IS NULL OR NOT json_valid(m.receipt_json) THEN 'none'
    WHEN json_type(m.receipt_json, '$.signature') = 'text' THEN 'signed'
    ELSE 'unsigned' END AS receipt_status
  FROM messages m`;

/** The shapes of the JSON columns, checked when a row is read back. */
const contextUsageSchema = z.object({
  used: z.number(),
  total: z.number(),
  droppedMessageIds: z.array(z.string()),
}) satisfies z.ZodType<ContextUsage>;

const lineOrPage = z.number().nullable();
const citationSchema = z.object({
  n: z.number().int(),
  chunkId: z.string(),
  docId: z.string(),
  path: z.string(),
  title: z.string().nullable(),
  heading: z.array(z.string()),
  location: z.object({ pageStart: lineOrPage, pageEnd: lineOrPage, lineStart: lineOrPage, lineEnd: lineOrPage }),
  text: z.string(),
  wholeDocument: z.boolean(),
}) satisfies z.ZodType<Citation>;

const messageSourcesSchema = z.object({
  collectionIds: z.array(z.string()),
  citations: z.array(citationSchema),
  budget: z.object({ used: z.number(), total: z.number() }),
  note: z.string().nullable(),
  // Replies saved before search said how it ran have none.
  mode: z.enum(RETRIEVAL_MODES).nullable().optional(),
}) satisfies z.ZodType<MessageSources>;

/** Threads and their messages. Messages are ordered by a per-thread sequence number. */
export class ThreadRepository {
  private readonly stored: StoredJsonReader;

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
    logger: Logger = createConsoleLogger('warn'),
  ) {
    this.stored = new StoredJsonReader(logger);
  }

  private threadFromRaw(r: RawThread): ThreadRow {
    return {
      id: r.id,
      title: r.title,
      systemPrompt: r.system_prompt,
      // Fallback: unreadable context figures read as none; the next reply measures them again.
      context: r.context_json
        ? this.stored.read(contextUsageSchema, r.context_json, `The context usage of chat ${r.id}`, null, 'showing none until the next reply')
        : null,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }

  private messageFromRaw(r: RawMessage, groups: ReadonlyMap<string, string[]>): Message {
    const ids = r.alt_group ? groups.get(r.alt_group) : undefined;
    return {
      id: r.id,
      threadId: r.thread_id,
      role: r.role,
      content: r.content,
      status: r.status,
      createdAt: r.created_at,
      modelName: r.model_name,
      // A code this version does not know (written by a newer one) reads as INTERNAL.
      error: r.error_code ? { code: isErrorCode(r.error_code) ? r.error_code : 'INTERNAL', message: r.error_message ?? '' } : null,
      // Fallback: unreadable sources read as none; the reply's text is kept and shown without its citations.
      sources: r.sources_json
        ? this.stored.read(messageSourcesSchema, r.sources_json, `The sources of message ${r.id}`, null, 'showing the reply without them')
        : null,
      receipt: r.receipt_status,
      versions: ids && ids.length > 1 ? { ids, index: ids.indexOf(r.id) } satisfies MessageVersions : null,
    };
  }

  /** The versions of each regenerated reply in a thread, oldest first, by their group. */
  private versionGroups(threadId: string): Map<string, string[]> {
    const rows = this.db
      .prepare('SELECT id, alt_group FROM messages WHERE thread_id = ? AND alt_group IS NOT NULL ORDER BY seq')
      .all(threadId) as { id: string; alt_group: string }[];
    const groups = new Map<string, string[]>();
    for (const row of rows) groups.set(row.alt_group, [...(groups.get(row.alt_group) ?? []), row.id]);
    return groups;
  }

  list(): ThreadSummary[] {
    return this.db
      .prepare(
        `SELECT t.id, t.title, t.created_at AS createdAt, t.updated_at AS updatedAt,
                (SELECT COUNT(*) FROM messages m WHERE m.thread_id = t.id AND m.hidden = 0) AS messageCount
         FROM threads t ORDER BY t.updated_at DESC, t.rowid DESC`,
      )
      .all() as ThreadSummary[];
  }

  get(id: string): ThreadRow | undefined {
    const row = this.db.prepare('SELECT * FROM threads WHERE id = ?').get(id) as RawThread | undefined;
    return row && this.threadFromRaw(row);
  }

  create(title: string, systemPrompt: string): ThreadRow {
    const now = this.now();
    const id = newId('thr');
    this.db
      .prepare('INSERT INTO threads (id, title, system_prompt, created_at, updated_at) VALUES (?, ?, ?, ?, ?)')
      .run(id, title, systemPrompt, now, now);
    return this.get(id)!;
  }

  update(id: string, patch: { title?: string; systemPrompt?: string; context?: ContextUsage | null }): void {
    const current = this.get(id);
    if (!current) return;
    this.db
      .prepare('UPDATE threads SET title = ?, system_prompt = ?, context_json = ?, updated_at = ? WHERE id = ?')
      .run(
        patch.title ?? current.title,
        patch.systemPrompt ?? current.systemPrompt,
        patch.context === undefined ? (current.context ? JSON.stringify(current.context) : null) : patch.context && JSON.stringify(patch.context),
        this.now(),
        id,
      );
  }

  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM threads WHERE id = ?').run(id).changes > 0;
  }

  /** The thread's messages as shown: the chosen version of each regenerated reply, not the others. */
  messages(threadId: string): Message[] {
    const groups = this.versionGroups(threadId);
    return (
      this.db.prepare(`${MESSAGE_SELECT} WHERE m.thread_id = ? AND m.hidden = 0 ORDER BY m.seq`).all(threadId) as RawMessage[]
    ).map((r) => this.messageFromRaw(r, groups));
  }

  /** A message by id, a version not chosen included. */
  message(id: string): Message | undefined {
    const row = this.db.prepare(`${MESSAGE_SELECT} WHERE m.id = ?`).get(id) as RawMessage | undefined;
    return row && this.messageFromRaw(row, this.versionGroups(row.thread_id));
  }

  /**
   * The messages a reply was answered after, as they stood then: the thread's shown messages
   * before it, with the reply itself in the place of the version shown now.
   */
  messagesAsSeenBy(reply: Message): Message[] {
    const shown = this.messages(reply.threadId);
    const group = reply.versions?.ids;
    return group ? shown.map((m) => (group.includes(m.id) ? reply : m)) : shown;
  }

  /** The most recent empty chat with this title and no system prompt or collections, if any. */
  emptyThread(title: string): ThreadRow | undefined {
    const row = this.db
      .prepare(
        `SELECT t.* FROM threads t WHERE t.title = ? AND t.system_prompt = ''
           AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.thread_id = t.id)
           AND NOT EXISTS (SELECT 1 FROM thread_collections c WHERE c.thread_id = t.id)
         ORDER BY t.updated_at DESC, t.rowid DESC LIMIT 1`,
      )
      .get(title) as RawThread | undefined;
    return row && this.threadFromRaw(row);
  }

  /** Marks the thread as used now, so it comes first in the list (after any chat changed in the same millisecond too). */
  touch(threadId: string): void {
    this.db
      .prepare('UPDATE threads SET updated_at = MAX(?, COALESCE((SELECT MAX(updated_at) + 1 FROM threads WHERE id != ?), 0)) WHERE id = ?')
      .run(this.now(), threadId, threadId);
  }

  /**
   * Keeps a reply as one version of its group and hides it (a new version follows); returns the
   * group the next version joins.
   */
  hideAsVersion(messageId: string): string {
    this.db.prepare('UPDATE messages SET alt_group = COALESCE(alt_group, id), hidden = 1 WHERE id = ?').run(messageId);
    return (this.db.prepare('SELECT alt_group FROM messages WHERE id = ?').get(messageId) as { alt_group: string }).alt_group;
  }

  /** Shows this version of a reply and hides its others; false when it is no version of a reply in this thread. */
  chooseVersion(threadId: string, messageId: string): boolean {
    const row = this.db.prepare('SELECT alt_group FROM messages WHERE id = ? AND thread_id = ?').get(messageId, threadId) as
      | { alt_group: string | null }
      | undefined;
    if (!row?.alt_group) return false;
    this.db
      .prepare('UPDATE messages SET hidden = CASE WHEN id = ? THEN 0 ELSE 1 END WHERE thread_id = ? AND alt_group = ?')
      .run(messageId, threadId, row.alt_group);
    return true;
  }

  deleteMessage(id: string): void {
    this.db.prepare('DELETE FROM messages WHERE id = ?').run(id);
  }

  appendMessage(
    threadId: string,
    message: { role: MessageRole; content: string; status: MessageStatus; modelName?: string | null; altGroup?: string },
  ): Message {
    const id = newId('msg');
    const now = this.now();
    this.db.transaction(() => {
      const { next } = this.db
        .prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM messages WHERE thread_id = ?')
        .get(threadId) as { next: number };
      this.db
        .prepare(
          `INSERT INTO messages (id, thread_id, seq, role, content, status, model_name, alt_group, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(id, threadId, next, message.role, message.content, message.status, message.modelName ?? null, message.altGroup ?? null, now);
      this.db.prepare('UPDATE threads SET updated_at = ? WHERE id = ?').run(now, threadId);
    })();
    return this.message(id)!;
  }

  finishMessage(
    id: string,
    patch: { content: string; status: MessageStatus; error?: ErrorData | null },
  ): Message {
    this.db
      .prepare('UPDATE messages SET content = ?, status = ?, error_code = ?, error_message = ? WHERE id = ?')
      .run(patch.content, patch.status, patch.error?.code ?? null, patch.error?.message ?? null, id);
    return this.message(id)!;
  }

  setMessageSources(id: string, sources: MessageSources | null): void {
    this.db.prepare('UPDATE messages SET sources_json = ? WHERE id = ?').run(sources && JSON.stringify(sources), id);
  }

  /** Stores (or replaces, once signed) a reply's receipt. */
  setMessageReceipt(id: string, receipt: AnswerReceipt | null): void {
    this.db.prepare('UPDATE messages SET receipt_json = ? WHERE id = ?').run(receipt && JSON.stringify(receipt), id);
  }

  /** A message's stored receipt, as text; null when it has none. */
  receipt(messageId: string): StoredReceipt | null {
    const row = this.db.prepare('SELECT id, thread_id, receipt_json FROM messages WHERE id = ? AND receipt_json IS NOT NULL').get(messageId) as
      | { id: string; thread_id: string; receipt_json: string }
      | undefined;
    return row ? { messageId: row.id, threadId: row.thread_id, json: row.receipt_json } : null;
  }

  /**
   * The receipt a new one in this thread chains to: the stored receipt of the latest earlier
   * message that has one (null when none does).
   */
  previousReceipt(threadId: string, messageId: string): StoredReceipt | null {
    return this.chainReceipts(threadId, messageId, false).at(-1) ?? null;
  }

  /**
   * The receipts a reply's chain holds, in order: those of the messages before it in the chat
   * as shown (other versions of a regenerated reply are not; the reply's own versions neither),
   * and, with `inclusive`, its own. Without versions in the chat: every earlier receipt.
   */
  chainReceipts(threadId: string, messageId: string, inclusive = true): StoredReceipt[] {
    const rows = this.db
      .prepare(
        `WITH target AS (SELECT seq, alt_group FROM messages WHERE id = @messageId AND thread_id = @threadId)
         SELECT m.id, m.thread_id, m.receipt_json, m.seq FROM messages m
         WHERE m.thread_id = @threadId AND m.receipt_json IS NOT NULL
           AND m.seq < COALESCE((SELECT seq FROM target), 1e18)
           AND m.hidden = 0
           AND (m.alt_group IS NULL OR m.alt_group IS NOT (SELECT alt_group FROM target))
         UNION ALL
         SELECT m.id, m.thread_id, m.receipt_json, m.seq FROM messages m
         WHERE @inclusive = 1 AND m.id = @messageId AND m.thread_id = @threadId AND m.receipt_json IS NOT NULL
         ORDER BY seq`,
      )
      .all({ threadId, messageId, inclusive: inclusive ? 1 : 0 }) as { id: string; thread_id: string; receipt_json: string }[];
    return rows.map((row) => ({ messageId: row.id, threadId: row.thread_id, json: row.receipt_json }));
  }

  /** Every receipt of a thread (or of all threads) in order, for signing or checking the chain. */
  receipts(threadId: string | null): StoredReceipt[] {
    const rows = this.db
      .prepare(
        `SELECT m.id, m.thread_id, m.receipt_json FROM messages m JOIN threads t ON t.id = m.thread_id
         WHERE m.receipt_json IS NOT NULL AND (? IS NULL OR m.thread_id = ?) ORDER BY t.created_at, t.rowid, m.seq`,
      )
      .all(threadId, threadId) as { id: string; thread_id: string; receipt_json: string }[];
    return rows.map((row) => ({ messageId: row.id, threadId: row.thread_id, json: row.receipt_json }));
  }

  /** The collections a chat answers from. */
  collectionIds(threadId: string): string[] {
    return (
      this.db
        .prepare('SELECT collection_id AS id FROM thread_collections WHERE thread_id = ? ORDER BY rowid')
        .all(threadId) as { id: string }[]
    ).map((r) => r.id);
  }

  setCollectionIds(threadId: string, collectionIds: readonly string[]): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM thread_collections WHERE thread_id = ?').run(threadId);
      const insert = this.db.prepare('INSERT OR IGNORE INTO thread_collections (thread_id, collection_id) VALUES (?, ?)');
      for (const id of collectionIds) insert.run(threadId, id);
      this.db.prepare('UPDATE threads SET updated_at = ? WHERE id = ?').run(this.now(), threadId);
    })();
  }

  setMessageContent(id: string, content: string): void {
    this.db.prepare('UPDATE messages SET content = ? WHERE id = ?').run(content, id);
  }

  /** Deletes every message after the given one (by sequence) in its thread. */
  truncateAfter(threadId: string, messageId: string, inclusive: boolean): void {
    const row = this.db.prepare('SELECT seq FROM messages WHERE id = ? AND thread_id = ?').get(messageId, threadId) as
      | { seq: number }
      | undefined;
    if (!row) return;
    this.db
      .prepare(`DELETE FROM messages WHERE thread_id = ? AND seq ${inclusive ? '>=' : '>'} ?`)
      .run(threadId, row.seq);
  }

  /** Messages left 'streaming' by a crash are closed as stopped, keeping their text. */
  closeInterruptedMessages(): number {
    return this.db
      .prepare(`UPDATE messages SET status = 'stopped' WHERE status = 'streaming'`)
      .run().changes;
  }

  /** Runs fn in one SQLite transaction. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}
