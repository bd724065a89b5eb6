import type { ChatSearchHit, ThreadExport, ThreadExportFormat, ThreadImportResult } from '#contract/dto';
import { HearthError } from '../common/hearthError';
import type { ArchivedMessage, ArchivedThread, ThreadArchiveRepository } from '../storage/threadArchiveRepository';
import type { ThreadRepository } from '../storage/threadRepository';
import { HEARTH_EXPORT_FORMAT, HEARTH_EXPORT_VERSION, parseImport } from './chatImportFormats';

const DEFAULT_SEARCH_LIMIT = 50;

/**
 * Chats as a whole: search across all of them, export one or all as Markdown or Hearth JSON,
 * and import Hearth JSON or a ChatGPT export. An import is checked completely before anything
 * is written, and written in one transaction: a bad file adds nothing.
 */
export class ChatArchive {
  constructor(
    private readonly archive: ThreadArchiveRepository,
    private readonly threads: ThreadRepository,
    /** Told about each imported chat, so every front end's list shows it. */
    private readonly onThreadChanged: (threadId: string) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  search(query: string, limit = DEFAULT_SEARCH_LIMIT): ChatSearchHit[] {
    return this.archive.search(query, limit);
  }

  /** One chat, or every chat when threadId is not given, as a file. */
  export(threadId: string | undefined, format: ThreadExportFormat): ThreadExport {
    const ids = threadId === undefined ? this.archive.threadIds() : [threadId];
    const threads = ids.map((id) => {
      const thread = this.archive.read(id);
      if (!thread) throw new HearthError('THREAD_NOT_FOUND', `No chat with id ${id}; it may have been deleted.`);
      return thread;
    });
    const stem = threadId === undefined ? `hearth-chats-${new Date(this.now()).toISOString().slice(0, 10)}` : fileStem(threads[0]!.title);
    if (format === 'json') {
      return { fileName: `${stem}.json`, mimeType: 'application/json', content: exportJson(threads) };
    }
    return { fileName: `${stem}.md`, mimeType: 'text/markdown', content: threads.map(threadMarkdown).join('\n---\n\n') };
  }

  import(content: string): ThreadImportResult {
    const parsed = parseImport(content, this.now());
    const ids = this.archive.insert(parsed.threads);
    const added = new Set(ids);
    for (const id of ids) this.onThreadChanged(id);
    return { format: parsed.format, threads: this.threads.list().filter((t) => added.has(t.id)) };
  }
}

/** Hearth's JSON export: stable (no export time, no ids), so exporting an import gives the same file. */
export function exportJson(threads: readonly ArchivedThread[]): string {
  return `${JSON.stringify({ format: HEARTH_EXPORT_FORMAT, version: HEARTH_EXPORT_VERSION, threads }, null, 2)}\n`;
}

function threadMarkdown(thread: ArchivedThread): string {
  const lines = [`# ${oneLine(thread.title)}`, '', `*Started ${when(thread.createdAt)}, exported from Hearth.*`, ''];
  if (thread.systemPrompt) lines.push('**System prompt:**', '', quote(thread.systemPrompt), '');
  for (const message of thread.messages) lines.push(...messageMarkdown(message));
  return `${lines.join('\n').trimEnd()}\n`;
}

function messageMarkdown(message: ArchivedMessage): string[] {
  const author = message.role === 'user' ? 'You' : `Assistant${message.modelName ? ` (${oneLine(message.modelName)})` : ''}`;
  const versions = message.alternates?.length ? ` · version ${(message.alternateIndex ?? 0) + 1} of ${message.alternates.length + 1}` : '';
  const status = message.status === 'complete' ? '' : ` · ${message.status}`;
  return [`## ${author} · ${when(message.createdAt)}${versions}${status}`, '', message.content, ''];
}

function when(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function quote(text: string): string {
  return text
    .split('\n')
    .map((line) => `> ${line}`)
    .join('\n');
}

/** A file name from a chat's title: letters, digits and dashes. */
function fileStem(title: string): string {
  const stem = title
    .normalize('NFKD')
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .toLowerCase();
  return stem || 'chat';
}
