import { resolve } from 'node:path';
import { MAX_IMPORT_CHARS } from '#contract/limits';
import { THREAD_EXPORT_FORMATS } from '#contract/vocabulary';
import { writeFileAtomic } from '../core/common/atomicFile';
import { HearthError } from '../core/common/hearthError';
import { readFileOrPipe } from '../core/common/regularFile';
import { contractInput } from './contractInput';
import { defineCommand, defineGroup } from './declare/commandSpec';
import { choice, integer, text } from './declare/options';
import { arg, words } from './declare/positionals';
import { terminalSafe, threadTable } from './format';
import { withCore } from './openCore';
import { printResult } from './output';
import { coreOptions, jsonOption } from './sharedOptions';

/** How long `threads import` waits for a pipe's writer. */
const PIPE_TIMEOUT_MS = 60_000;

/** `hearth threads ls`. */
const threadsLs = defineCommand({
  name: 'ls',
  summary: 'List chats, most recently updated first',
  description: 'Lists saved chats, most recently updated first.',
  options: { ...jsonOption('Print the list as JSON'), ...coreOptions },
  positionals: {},
  run: ({ options }, ctx) =>
    withCore(options, ctx, async (core) => {
      const threads = core.chat.listThreads();
      printResult(ctx, options.json, threads, () => (threads.length ? threadTable(threads) : 'No chats yet.'));
      return 0;
    }),
});

/** `hearth threads search WORDS`. */
const threadsSearch = defineCommand({
  name: 'search',
  summary: 'Find messages across all chats',
  description: `Finds the messages of every chat that hold all the words (the last one may be the start
of a word), best matches first, with the chat they are in.`,
  options: { limit: integer('N', 'Show at most N messages (default 20)', { min: 1, max: 200 }), ...jsonOption('Print the hits as JSON'), ...coreOptions },
  positionals: { query: words('WORDS', 'What to look for', 'threads search needs the words to look for') },
  run: ({ command, options, args }, ctx) =>
    withCore(options, ctx, async (core) => {
      const input = contractInput('threads.search', { query: args.query, limit: options.limit ?? 20 }, command, { query: 'WORDS' });
      const hits = core.chatArchive.search(input.query, input.limit);
      printResult(ctx, options.json, hits, () =>
        hits.length
          ? hits
              .map((h) => `${h.threadId}  ${terminalSafe(h.threadTitle)}\n  ${h.role === 'user' ? 'You' : 'Reply'}: ${terminalSafe(h.snippet.map((p) => (p.hit ? `*${p.text}*` : p.text)).join(''))}`)
              .join('\n')
          : 'No message matches.',
      );
      return 0;
    }),
});

/** `hearth threads export [THREAD_ID]`. */
const threadsExport = defineCommand({
  name: 'export',
  summary: 'Write one chat or all chats as Markdown or JSON',
  usage: 'threads export [--thread ID] [--format markdown|json] [-o FILE]',
  description: `Writes a chat (--thread ID) or every chat as Markdown (to read) or Hearth JSON (to import
again with \`hearth threads import\`, here or on another machine). Regenerated replies keep
all their versions. Answer receipts are not part of it: export those with \`hearth receipts export\`.`,
  options: {
    thread: text('ID', 'The chat to export (default: every chat; see `hearth threads ls`)'),
    format: choice('FORMAT', THREAD_EXPORT_FORMATS, 'markdown or json (default: markdown)'),
    output: text('FILE', 'Write to FILE (default: standard output)').alias('o'),
    ...coreOptions,
  },
  positionals: {},
  run: ({ command, options }, ctx) =>
    withCore(options, ctx, async (core) => {
      const input = contractInput('threads.export', { ...(options.thread ? { threadId: options.thread } : {}), format: options.format ?? 'markdown' }, command, { threadId: '--thread' });
      const file = core.chatArchive.export(input.threadId, input.format);
      if (options.output === undefined) ctx.stdout(file.content);
      else {
        await writeFileAtomic(resolve(options.output), file.content, 0o600);
        ctx.stderr(`Wrote ${input.threadId ? 'the chat' : 'every chat'} to ${terminalSafe(options.output)}.\n`);
      }
      return 0;
    }),
});

/** `hearth threads import FILE`. */
const threadsImport = defineCommand({
  name: 'import',
  summary: "Add chats from a Hearth JSON export or ChatGPT's conversations.json",
  description: `Adds the chats of FILE: a Hearth JSON export (\`hearth threads export --format json\`) or the
conversations.json of a ChatGPT data export (the branch of each conversation shown last).
The whole file is checked first and its chats are added in one step: a damaged file
(IMPORT_INVALID) adds nothing.`,
  options: { ...jsonOption('Print the imported chats as JSON'), ...coreOptions },
  positionals: { file: arg('FILE', 'The export to read') },
  notes: 'Exit codes: 0 imported, 1 error (e.g. IMPORT_INVALID), 2 bad usage.',
  run: ({ options, args }, ctx) =>
    withCore(options, ctx, async (core) => {
      const path = resolve(args.file);
      const bytes = await readFileOrPipe(path, { expected: 'an export file', pipeTimeoutMs: PIPE_TIMEOUT_MS, maxBytes: MAX_IMPORT_CHARS });
      if (bytes.length > MAX_IMPORT_CHARS) {
        throw new HearthError('IMPORT_INVALID', `${terminalSafe(args.file)} has ${bytes.length} bytes; an import takes at most ${MAX_IMPORT_CHARS}.`);
      }
      const result = core.chatArchive.import(bytes.toString('utf8'));
      printResult(ctx, options.json, result, () => {
        const what = result.format === 'chatgpt' ? 'ChatGPT export' : 'Hearth export';
        return result.threads.length ? `Imported ${result.threads.length} chat(s) from the ${what}:\n${threadTable(result.threads)}` : `The ${what} holds no chats.`;
      });
      return 0;
    }),
});

export const threadsCommand = defineGroup({
  name: 'threads',
  summary: 'List, search, export and import chats',
  commands: [threadsLs, threadsSearch, threadsExport, threadsImport],
});
