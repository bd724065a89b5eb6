import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Collection, SearchHit } from '#contract/dto';
import { reachIncludes, type CollectionReach } from '../../core/apiTokens/apiTokenScopes';
import { HearthError, toErrorData } from '../../core/common/hearthError';
import type { DocumentLibrary } from '../../core/library/documentLibrary';

/** What the MCP tools use of the document library: the same calls as the UI's search. */
export type McpLibrary = Pick<DocumentLibrary, 'collections' | 'findCollection' | 'search' | 'chunk'>;

const DEFAULT_K = 8;
const MAX_K = 50;

/** A passage as MCP clients get it: where it is (file, pages or lines, heading) and its stable id. */
export interface McpPassage {
  passage_id: string;
  collection: string;
  file: string;
  title: string | null;
  page_start: number | null;
  page_end: number | null;
  line_start: number | null;
  line_end: number | null;
  heading: string | null;
  text: string;
  score?: number;
}

/**
 * The MCP server for the user's documents: list_collections, search_documents and read_passage,
 * each a thin adapter over the document library, limited to the collections in `reach` (a
 * token's documents scopes over HTTP; every collection, or --collection, over stdio).
 */
export function createLibraryMcpServer(library: McpLibrary, reach: CollectionReach, version: string): McpServer {
  const server = new McpServer({ name: 'hearth', version }, { capabilities: { tools: {} } });
  const visible = (): Collection[] => library.collections().filter((c) => reachIncludes(reach, c.id));
  const collectionName = (id: string): string => library.collections().find((c) => c.id === id)?.name ?? id;

  server.registerTool(
    'list_collections',
    {
      title: 'List document collections',
      description: "The collections of the user's indexed documents this client may search, with their document and passage counts.",
      inputSchema: {},
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () =>
      answer(() => {
        const collections = visible().map((c) => ({ id: c.id, name: c.name, documents: c.documentCount, passages: c.chunkCount }));
        return { collections };
      }),
  );

  server.registerTool(
    'search_documents',
    {
      title: "Search the user's documents",
      description:
        "Hybrid (full-text and semantic) search over the user's indexed documents. Returns passages with their file, pages or lines, heading and a passage_id for read_passage.",
      inputSchema: {
        query: z.string().trim().min(1).max(2000).describe('What to look for, in words'),
        collections: z.array(z.string().min(1).max(100)).max(50).optional().describe('Collection names or ids (default: every collection this client may search)'),
        k: z.number().int().min(1).max(MAX_K).optional().describe(`How many passages (default ${DEFAULT_K}, at most ${MAX_K})`),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ query, collections, k }) =>
      answer(async () => {
        const ids = collections?.length ? collections.map((wanted) => allowedCollection(library, reach, wanted)) : visible().map((c) => c.id);
        if (ids.length === 0) return { passages: [] };
        const hits = await library.search({ query, collectionIds: ids, limit: k ?? DEFAULT_K });
        return { passages: hits.map((hit) => passage(hit, collectionName(hit.collectionId), hit.score)) };
      }),
  );

  server.registerTool(
    'read_passage',
    {
      title: 'Read one passage',
      description: 'The full text and location of one passage, by the passage_id that search_documents returned.',
      inputSchema: { passage_id: z.string().min(1).max(200).describe('A passage_id from search_documents') },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ passage_id }) =>
      answer(async () => {
        const hit = await library.chunk(passage_id).catch(() => null);
        // Outside the reach reads exactly like a passage that does not exist: nothing leaks.
        if (!hit || !reachIncludes(reach, hit.collectionId)) throw new HearthError('NOT_FOUND', `No passage "${passage_id}" in the collections this client may read.`);
        return { passage: passage(hit, collectionName(hit.collectionId)) };
      }),
  );
  return server;
}

/** A collection named by a client, if it is one this client may search (FORBIDDEN otherwise). */
function allowedCollection(library: McpLibrary, reach: CollectionReach, wanted: string): string {
  const found = library.findCollection(wanted);
  if (found && reachIncludes(reach, found.id)) return found.id;
  if (reach === 'all') throw new HearthError('COLLECTION_NOT_FOUND', `No collection named "${wanted}".`);
  throw new HearthError('FORBIDDEN', `This client may not search the collection "${wanted}" (or there is none by that name).`);
}

function passage(hit: SearchHit, collection: string, score?: number): McpPassage {
  const { pageStart, pageEnd, lineStart, lineEnd } = hit.location;
  return {
    passage_id: hit.chunkId,
    collection,
    file: hit.path,
    title: hit.title,
    page_start: pageStart,
    page_end: pageEnd,
    line_start: lineStart,
    line_end: lineEnd,
    heading: hit.heading.length ? hit.heading.join(' › ') : null,
    text: hit.text,
    ...(score === undefined ? {} : { score }),
  };
}

/** A tool's result as MCP wants it: JSON text plus the same structure; a failure is a tool error with its code. */
async function answer(run: () => Record<string, unknown> | Promise<Record<string, unknown>>): Promise<CallToolResult> {
  try {
    const value = await run();
    return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value };
  } catch (error) {
    const data = toErrorData(error);
    return { isError: true, content: [{ type: 'text', text: `${data.code}: ${data.message}` }] };
  }
}
