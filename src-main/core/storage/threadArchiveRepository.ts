import type { ChatSearchHit, MessageRole, MessageStatus, SnippetPart } from '#contract/dto';
import { newId } from '../common/ids';
import type { Db } from './database';

/** Marks FTS5's snippet() puts around matched words: control characters no message text holds. */
const HIT_START = '\u0002';
const HIT_END = '\u0003';
/** Words of context an excerpt shows around the matches. */
const SNIPPET_TOKENS = 16;

/** A message as an export writes it and an import reads it: no ids, receipts or sources. */
export interface ArchivedMessage {
  role: MessageRole;
  content: string;
  status: MessageStatus;
  createdAt: number;
  modelName: string | null;
  /** The other versions of a regenerated reply, oldest first; this one sits at alternateIndex among them. */
  alternates?: ArchivedReply[];
  alternateIndex?: number;
}

export type ArchivedReply = Pick<ArchivedMessage, 'content' | 'status' | 'createdAt' | 'modelName'>;

export interface ArchivedThread {
  title: string;
  systemPrompt: string;
  createdAt: number;
  updatedAt: number;
  messages: ArchivedMessage[];
}

interface RawArchivedMessage {
  id: string;
  role: MessageRole;
  content: string;
  status: MessageStatus;
  created_at: number;
  model_name: string | null;
  alt_group: string | null;
  hidden: number;
}

/**
 * Chats as a whole: full-text search over every message (the FTS5 index migration 1 made),
 * and reading and writing whole threads for export and import.
 */
export class ThreadArchiveRepository {
  constructor(private readonly db: Db) {}

  /** Messages matching every word of the query (the last one as a prefix), best first. */
  search(query: string, limit: number): ChatSearchHit[] {
    const match = ftsQuery(query);
    if (!match) return [];
    const rows = this.db
      .prepare(
        `SELECT m.id, m.thread_id, m.role, m.created_at, t.title,
                snippet(messages_fts, 0, ?, ?, '…', ?) AS excerpt
         FROM messages_fts
         JOIN messages m ON m.rowid = messages_fts.rowid
         JOIN threads t ON t.id = m.thread_id
         WHERE messages_fts MATCH ? AND m.hidden = 0
         ORDER BY bm25(messages_fts), m.created_at DESC
         LIMIT ?`,
      )
      .all(HIT_START, HIT_END, SNIPPET_TOKENS, match, limit) as {
      id: string;
      thread_id: string;
      role: MessageRole;
      created_at: number;
      title: string;
      excerpt: string;
    }[];
    return rows.map((r) => ({
      threadId: r.thread_id,
      threadTitle: r.title,
      messageId: r.id,
      role: r.role,
      createdAt: r.created_at,
      snippet: snippetParts(r.excerpt),
    }));
  }

  /** Thread ids, oldest first (the order an export of every chat lists them). */
  threadIds(): string[] {
    return (this.db.prepare('SELECT id FROM threads ORDER BY created_at, rowid').all() as { id: string }[]).map((r) => r.id);
  }

  /** A whole thread as an export writes it, with every version of its regenerated replies. */
  read(threadId: string): ArchivedThread | null {
    const thread = this.db
      .prepare('SELECT title, system_prompt, created_at, updated_at FROM threads WHERE id = ?')
      .get(threadId) as { title: string; system_prompt: string; created_at: number; updated_at: number } | undefined;
    if (!thread) return null;
    const rows = this.db
      .prepare('SELECT id, role, content, status, created_at, model_name, alt_group, hidden FROM messages WHERE thread_id = ? ORDER BY seq')
      .all(threadId) as RawArchivedMessage[];
    const messages: ArchivedMessage[] = [];
    for (const row of rows) {
      if (row.hidden) continue;
      const message: ArchivedMessage = { role: row.role, ...reply(row) };
      const versions = row.alt_group ? rows.filter((r) => r.alt_group === row.alt_group) : [];
      if (versions.length > 1) {
        message.alternates = versions.filter((v) => v.id !== row.id).map(reply);
        message.alternateIndex = versions.findIndex((v) => v.id === row.id);
      }
      messages.push(message);
    }
    return { title: thread.title, systemPrompt: thread.system_prompt, createdAt: thread.created_at, updatedAt: thread.updated_at, messages };
  }

  /** Adds threads with their messages, all in one transaction: a failure adds none of them. Returns the new ids. */
  insert(threads: readonly ArchivedThread[]): string[] {
    const addThread = this.db.prepare(
      'INSERT INTO threads (id, title, system_prompt, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
    );
    const addMessage = this.db.prepare(
      `INSERT INTO messages (id, thread_id, seq, role, content, status, model_name, alt_group, hidden, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    return this.db.transaction(() =>
      threads.map((thread) => {
        const threadId = newId('thr');
        addThread.run(threadId, thread.title, thread.systemPrompt, thread.createdAt, thread.updatedAt);
        let seq = 0;
        for (const message of thread.messages) {
          const alternates = message.alternates ?? [];
          if (alternates.length === 0) {
            addMessage.run(newId('msg'), threadId, ++seq, message.role, message.content, message.status, message.modelName, null, 0, message.createdAt);
            continue;
          }
          const versions = [...alternates];
          const chosen = Math.min(Math.max(message.alternateIndex ?? versions.length, 0), versions.length);
          versions.splice(chosen, 0, message);
          const ids = versions.map(() => newId('msg'));
          versions.forEach((version, i) => {
            addMessage.run(ids[i], threadId, ++seq, message.role, version.content, version.status, version.modelName, ids[0], i === chosen ? 0 : 1, version.createdAt);
          });
        }
        return threadId;
      }),
    )();
  }
}

function reply(row: RawArchivedMessage): ArchivedReply {
  return { content: row.content, status: row.status, createdAt: row.created_at, modelName: row.model_name };
}

/**
 * The user's words as an FTS5 query: each word quoted (so nothing they type is query syntax),
 * all required, the last one a prefix (results appear while typing). Null when no word is left.
 */
export function ftsQuery(query: string): string | null {
  const words = query
    .split(/\s+/)
    .map((w) => w.replace(/"/g, ''))
    .filter((w) => /[\p{L}\p{N}]/u.test(w));
  if (words.length === 0) return null;
  return words.map((w, i) => `"${w}"${i === words.length - 1 ? '*' : ''}`).join(' ');
}

/** snippet()'s marked text as plain pieces, the matched ones flagged. */
export function snippetParts(excerpt: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  for (const [i, piece] of excerpt.split(HIT_START).entries()) {
    if (i === 0) {
      if (piece) parts.push({ text: piece, hit: false });
      continue;
    }
    const end = piece.indexOf(HIT_END);
    const hit = end === -1 ? piece : piece.slice(0, end);
    const rest = end === -1 ? '' : piece.slice(end + 1);
    if (hit) parts.push({ text: hit, hit: true });
    if (rest) parts.push({ text: rest, hit: false });
  }
  return parts;
}
