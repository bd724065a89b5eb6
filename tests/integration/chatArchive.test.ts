import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Core } from '../../src-main/core/createCore';
import { HearthError } from '../../src-main/core/common/hearthError';
import { createTestCore } from '../support/testCore';

const CHATGPT = readFileSync(join(__dirname, '..', 'support', 'fixtures', 'chatgpt-conversations.json'), 'utf8');

/** A Hearth JSON export as `threads export --format json` writes it: two chats, one reply with three versions. */
const HEARTH_EXPORT = `${JSON.stringify(
  {
    format: 'hearth.chats',
    version: 1,
    threads: [
      {
        title: 'Telescope for a beginner',
        systemPrompt: 'Answer briefly.',
        createdAt: 1_700_000_000_000,
        updatedAt: 1_700_000_900_000,
        messages: [
          { role: 'user', content: 'Which telescope should a beginner buy?', status: 'complete', createdAt: 1_700_000_000_100, modelName: null },
          {
            role: 'assistant',
            content: 'A 6-inch Dobsonian reflector: simple, stable and bright.',
            status: 'complete',
            createdAt: 1_700_000_000_300,
            modelName: 'stories260K',
            alternates: [
              { content: 'Binoculars first, then a refractor (an unchosen zebra version).', status: 'complete', createdAt: 1_700_000_000_200, modelName: 'stories260K' },
              { content: 'A small refractor.', status: 'stopped', createdAt: 1_700_000_000_400, modelName: 'stories260K' },
            ],
            alternateIndex: 1,
          },
          { role: 'user', content: 'And the eyepiece?', status: 'complete', createdAt: 1_700_000_000_500, modelName: null },
          { role: 'assistant', content: 'A 25 mm eyepiece; the $f/D$ ratio sets the rest.', status: 'length', createdAt: 1_700_000_000_600, modelName: 'stories260K' },
        ],
      },
      {
        title: 'Bread',
        systemPrompt: '',
        createdAt: 1_700_100_000_000,
        updatedAt: 1_700_100_000_000,
        messages: [{ role: 'user', content: 'How long should dough rise near the telescope?', status: 'complete', createdAt: 1_700_100_000_001, modelName: null }],
      },
    ],
  },
  null,
  2,
)}\n`;

async function expectCode(fn: () => unknown, code: string): Promise<HearthError> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HearthError);
    expect((error as HearthError).code).toBe(code);
    return error as HearthError;
  }
  throw new Error(`expected ${code}`);
}

const count = (core: Core, table: 'threads' | 'messages') => (core.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;

describe('chat search, export and import (real SQLite)', () => {
  let core: Core;
  let cleanup: () => Promise<void>;

  beforeEach(() => {
    ({ core, cleanup } = createTestCore());
  });
  afterEach(() => cleanup());

  it('imports a Hearth JSON export and exports it again unchanged, here and in another data directory', async () => {
    const result = core.chatArchive.import(HEARTH_EXPORT);
    expect(result.format).toBe('hearth');
    expect(result.threads.map((t) => t.title).sort()).toEqual(['Bread', 'Telescope for a beginner']);
    const exported = core.chatArchive.export(undefined, 'json');
    expect(exported.mimeType).toBe('application/json');
    expect(exported.fileName).toMatch(/^hearth-chats-\d{4}-\d{2}-\d{2}\.json$/);
    expect(exported.content).toBe(HEARTH_EXPORT);

    // The chosen version is shown, the other two are kept as versions of the reply.
    const telescope = result.threads.find((t) => t.title.startsWith('Telescope'))!;
    const thread = core.chat.getThread(telescope.id);
    expect(thread.messageCount).toBe(4);
    expect(thread.messages[1]!.content).toMatch(/Dobsonian/);
    expect(thread.messages[1]!.versions).toEqual({ ids: expect.any(Array), index: 1 });
    expect(thread.messages[1]!.versions!.ids).toHaveLength(3);
    expect(thread.systemPrompt).toBe('Answer briefly.');

    const other = createTestCore();
    try {
      other.core.chatArchive.import(exported.content);
      expect(other.core.chatArchive.export(undefined, 'json').content).toBe(HEARTH_EXPORT);
    } finally {
      await other.cleanup();
    }
  });

  it('exports one chat as Markdown and as JSON, named after its title', () => {
    const [telescope] = core.chatArchive.import(HEARTH_EXPORT).threads.filter((t) => t.title.startsWith('Telescope'));
    const markdown = core.chatArchive.export(telescope!.id, 'markdown');
    expect(markdown.fileName).toBe('telescope-for-a-beginner.md');
    expect(markdown.mimeType).toBe('text/markdown');
    expect(markdown.content).toMatch(/^# Telescope for a beginner\n/);
    expect(markdown.content).toContain('> Answer briefly.');
    expect(markdown.content).toContain('## You · 2023-11-14 22:13 UTC\n\nWhich telescope should a beginner buy?');
    expect(markdown.content).toContain('## Assistant (stories260K) · 2023-11-14 22:13 UTC · version 2 of 3\n\nA 6-inch Dobsonian');
    expect(markdown.content).toContain('· length\n\nA 25 mm eyepiece; the $f/D$ ratio sets the rest.');
    expect(markdown.content).not.toContain('zebra'); // versions not chosen are in the JSON only

    const json = JSON.parse(core.chatArchive.export(telescope!.id, 'json').content) as { threads: unknown[] };
    expect(json.threads).toHaveLength(1);
    expect(() => core.chatArchive.export('thr_missing', 'json')).toThrow(/No chat/);
  });

  it('imports a ChatGPT conversations.json: the branch shown last, text turns only', () => {
    const result = core.chatArchive.import(CHATGPT);
    expect(result.format).toBe('chatgpt');
    expect(result.threads).toHaveLength(2);
    const sourdough = core.chat.getThread(result.threads.find((t) => t.title === 'Sourdough starter help')!.id);
    expect(sourdough.createdAt).toBe(1_717_430_400_123);
    expect(sourdough.updatedAt).toBe(1_717_431_000_500);
    expect(sourdough.messages.map((m) => [m.role, m.content, m.modelName])).toEqual([
      ['user', 'My sourdough starter smells like nail polish. Is it dead?', null],
      ['assistant', 'Not dead, just hungry: the acetone smell means it needs feeding more often.', 'gpt-4o'],
      ['user', 'Here is a photo. How often should I feed it?', null],
      ['assistant', 'Twice a day at room temperature.\n\nUse equal weights of flour and water: $r = 1:1:1$.', 'gpt-4o'],
    ]);
    expect(sourdough.messages.every((m) => m.status === 'complete')).toBe(true);
    expect(sourdough.messages[0]!.createdAt).toBe(1_717_430_401_200);
    const untitled = core.chat.getThread(result.threads.find((t) => t.title !== 'Sourdough starter help')!.id);
    expect(untitled.title).toBe('Imported chat');
    expect(untitled.messages[1]!.content).toContain('Foyer');
  });

  it('refuses damaged files with IMPORT_INVALID and adds nothing from them', async () => {
    core.chatArchive.import(HEARTH_EXPORT);
    const before = [count(core, 'threads'), count(core, 'messages')];

    await expectCode(() => core.chatArchive.import('{"format": "hearth.chats", "version": 1, "threads": ['), 'IMPORT_INVALID');
    await expectCode(() => core.chatArchive.import('{"hello": "world"}'), 'IMPORT_INVALID');
    // One bad message in the second chat: the first chat is not added either.
    const badStatus = HEARTH_EXPORT.replace('"status": "length"', '"status": "finished"');
    expect((await expectCode(() => core.chatArchive.import(badStatus), 'IMPORT_INVALID')).message).toMatch(/threads\.0\.messages\.3\.status/);
    const future = HEARTH_EXPORT.replace('"version": 1', '"version": 2');
    await expectCode(() => core.chatArchive.import(future), 'IMPORT_INVALID');

    const conversations = JSON.parse(CHATGPT) as { mapping: Record<string, { parent: string | null }>; current_node: string }[];
    conversations[1]!.mapping.u!.parent = 'gone';
    const broken = await expectCode(() => core.chatArchive.import(JSON.stringify(conversations)), 'IMPORT_INVALID');
    expect(broken.message).toMatch(/Conversation 2 .*names a message gone/);
    conversations[1]!.mapping.u!.parent = 'a'; // a loop
    await expectCode(() => core.chatArchive.import(JSON.stringify(conversations)), 'IMPORT_INVALID');
    await expectCode(() => core.chatArchive.import(JSON.stringify([{ title: 'x', mapping: 'no' }])), 'IMPORT_INVALID');

    expect([count(core, 'threads'), count(core, 'messages')]).toEqual(before);
  });

  it('searches every chat, marks the matched words and leaves out versions not shown', () => {
    core.chatArchive.import(HEARTH_EXPORT);
    core.chatArchive.import(CHATGPT);
    const hits = core.chatArchive.search('telescope');
    expect(hits.map((h) => h.threadTitle).sort()).toEqual(['Bread', 'Telescope for a beginner']);
    const hit = hits.find((h) => h.threadTitle === 'Bread')!;
    expect(hit.role).toBe('user');
    expect(hit.snippet.filter((p) => p.hit).map((p) => p.text.toLowerCase())).toEqual(['telescope']);
    expect(hit.snippet.map((p) => p.text).join('')).toBe('How long should dough rise near the telescope?');
    expect(core.chat.getThread(hit.threadId).messages.some((m) => m.id === hit.messageId)).toBe(true);

    // All words must match; the last one may be the start of a word.
    expect(core.chatArchive.search('sourdough nail').map((h) => h.threadTitle)).toEqual(['Sourdough starter help']);
    expect(core.chatArchive.search('acet').map((h) => h.role)).toEqual(['assistant']);
    expect(core.chatArchive.search('zebra')).toEqual([]); // only in a version that is not shown
    // What a user types is words, never query syntax.
    expect(core.chatArchive.search('"telescope OR (bread')).toEqual([]);
    expect(core.chatArchive.search('NEAR( * " AND')).toEqual([]);
    expect(core.chatArchive.search('Dobsonian', 1)).toHaveLength(1);
  });

  it('New chat opens the empty chat there is instead of piling up another', () => {
    const first = core.chat.createThread(undefined, undefined, { reuseEmpty: true });
    const again = core.chat.createThread(undefined, undefined, { reuseEmpty: true });
    expect(again.id).toBe(first.id);
    expect(core.chat.listThreads()).toHaveLength(1);
    // Without asking for it (the CLI, scripts), every call makes a chat; a titled one is never reused.
    const plain = core.chat.createThread();
    expect(plain.id).not.toBe(first.id);
    const titled = core.chat.createThread('Notes', undefined, { reuseEmpty: true });
    expect(titled.id).not.toBe(first.id);
    // The newest empty chat is reused and comes first in the list.
    expect(core.chat.createThread(undefined, undefined, { reuseEmpty: true }).id).toBe(plain.id);
    expect(core.chat.listThreads()[0]!.id).toBe(plain.id);
    // Once chats have a message or a system prompt they are not empty any more.
    core.chat.updateThread(plain.id, { systemPrompt: 'Be brief.' });
    expect(core.chat.createThread(undefined, undefined, { reuseEmpty: true }).id).toBe(first.id);
  });
});
