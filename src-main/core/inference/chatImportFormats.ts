import { z } from 'zod';
import type { ThreadImportFormat } from '#contract/dto';
import { MESSAGE_ROLES, MESSAGE_STATUSES } from '#contract/vocabulary';
import { HearthError } from '../common/hearthError';
import type { ArchivedMessage, ArchivedThread } from '../storage/threadArchiveRepository';

/** The format name and version Hearth's JSON export carries. */
export const HEARTH_EXPORT_FORMAT = 'hearth.chats';
export const HEARTH_EXPORT_VERSION = 1;

const TITLE_MAX = 200;
const DEFAULT_TITLE = 'Imported chat';
const timestamp = z.number().finite().nonnegative();

const archivedReply = z
  .object({
    content: z.string(),
    status: z.enum(MESSAGE_STATUSES),
    createdAt: timestamp,
    modelName: z.string().max(500).nullable(),
  })
  .strict();

const archivedMessage = archivedReply
  .extend({
    role: z.enum(MESSAGE_ROLES),
    alternates: z.array(archivedReply).max(100).optional(),
    alternateIndex: z.number().int().nonnegative().optional(),
  })
  .strict()
  .refine((m) => m.alternateIndex === undefined || m.alternateIndex <= (m.alternates?.length ?? 0), 'alternateIndex is past its alternates')
  .refine((m) => m.role === 'assistant' || m.alternates === undefined, 'only replies have alternates');

const hearthExport = z
  .object({
    format: z.literal(HEARTH_EXPORT_FORMAT),
    version: z.literal(HEARTH_EXPORT_VERSION),
    threads: z.array(
      z
        .object({
          title: z.string().min(1).max(TITLE_MAX),
          systemPrompt: z.string().max(20_000),
          createdAt: timestamp,
          updatedAt: timestamp,
          messages: z.array(archivedMessage),
        })
        .strict(),
    ),
  })
  .strict();

/** The parts of a ChatGPT export's conversation that an import reads; everything else is ignored. */
const chatgptNode = z.object({
  parent: z.string().nullable().optional(),
  message: z
    .object({
      author: z.object({ role: z.string() }),
      create_time: z.number().nullable().optional(),
      content: z.object({ content_type: z.string(), parts: z.array(z.unknown()).optional() }),
      metadata: z.record(z.string(), z.unknown()).optional(),
    })
    .nullable()
    .optional(),
});

const chatgptConversation = z.object({
  title: z.string().nullable().optional(),
  create_time: z.number().nullable().optional(),
  update_time: z.number().nullable().optional(),
  mapping: z.record(z.string(), chatgptNode),
  current_node: z.string(),
});

type ChatgptConversation = z.infer<typeof chatgptConversation>;
type ChatgptNode = z.infer<typeof chatgptNode>;

export interface ParsedImport {
  format: ThreadImportFormat;
  threads: ArchivedThread[];
}

/** Reads an import file: Hearth's JSON export or ChatGPT's conversations.json, checked whole before anything is written. */
export function parseImport(content: string, now: number): ParsedImport {
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch (error) {
    throw new HearthError('IMPORT_INVALID', `The file is not JSON (${(error as Error).message}); nothing was imported.`);
  }
  if (isObject(value) && 'format' in value) {
    const parsed = hearthExport.safeParse(value);
    if (!parsed.success) throw invalid('This Hearth export', parsed.error);
    return { format: 'hearth', threads: parsed.data.threads.map((t) => ({ ...t, messages: t.messages.map(settled) })) };
  }
  const conversations = Array.isArray(value) ? value : isObject(value) && 'mapping' in value ? [value] : null;
  if (!conversations) {
    throw new HearthError(
      'IMPORT_INVALID',
      "The file is neither a Hearth chat export nor a ChatGPT export's conversations.json; nothing was imported.",
    );
  }
  const parsed = z.array(chatgptConversation).safeParse(conversations);
  if (!parsed.success) throw invalid('This ChatGPT export', parsed.error);
  return { format: 'chatgpt', threads: parsed.data.map((c, i) => fromChatgpt(c, i, now)) };
}

/** A reply that was streaming when it was exported is stopped here: nothing is writing it. */
function settled(message: ArchivedMessage): ArchivedMessage {
  return message.status === 'streaming' ? { ...message, status: 'stopped' } : message;
}

function invalid(what: string, error: z.ZodError): HearthError {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  return new HearthError('IMPORT_INVALID', `${what} is damaged${where}: ${issue?.message ?? 'unreadable'}. Nothing was imported.`);
}

/** One ChatGPT conversation: the branch that was shown last (current_node back to the root), text turns only. */
function fromChatgpt(conversation: ChatgptConversation, index: number, now: number): ArchivedThread {
  const name = `Conversation ${index + 1}${conversation.title ? ` ("${conversation.title.slice(0, 60)}")` : ''}`;
  const branch: ChatgptNode[] = [];
  const seen = new Set<string>();
  for (let id: string | null | undefined = conversation.current_node; id; ) {
    if (seen.has(id)) throw new HearthError('IMPORT_INVALID', `${name} of this ChatGPT export loops back to message ${id}; nothing was imported.`);
    seen.add(id);
    const node: ChatgptNode | undefined = conversation.mapping[id];
    if (!node) throw new HearthError('IMPORT_INVALID', `${name} of this ChatGPT export names a message ${id} it does not hold; nothing was imported.`);
    branch.push(node);
    id = node.parent;
  }
  const createdAt = seconds(conversation.create_time) ?? now;
  const messages: ArchivedMessage[] = [];
  for (const node of branch.reverse()) {
    const message = node.message;
    const role = message?.author.role;
    if (!message || (role !== 'user' && role !== 'assistant') || message.metadata?.is_visually_hidden_from_conversation === true) continue;
    const text = (message.content.parts ?? []).filter((p): p is string => typeof p === 'string').join('\n').trim();
    if (!text) continue;
    const previous = messages.at(-1);
    // ChatGPT splits one answer around tool calls: consecutive turns of one author read as one.
    if (previous?.role === role) {
      previous.content += `\n\n${text}`;
      continue;
    }
    const model = role === 'assistant' && typeof message.metadata?.model_slug === 'string' ? message.metadata.model_slug : null;
    messages.push({ role, content: text, status: 'complete', createdAt: seconds(message.create_time) ?? createdAt, modelName: model });
  }
  const title = conversation.title?.trim().slice(0, TITLE_MAX) || DEFAULT_TITLE;
  return { title, systemPrompt: '', createdAt, updatedAt: seconds(conversation.update_time) ?? messages.at(-1)?.createdAt ?? createdAt, messages };
}

function seconds(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
