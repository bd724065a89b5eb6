import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { ModelInfo } from '#contract/dto';
import type { ApiAuthorize } from '../../src-main/cli/api/apiRouter';
import { startServer, type HearthServer } from '../../src-main/cli/server';
import type { Core, CoreConfig } from '../../src-main/core/createCore';
import { createLibraryCore } from './libraryCore';

/** The API tokens the test server knows: each admits only its scopes (chat, embeddings, documents:<id>|*). */
export type TestTokens = Record<string, readonly string[]>;

/** Admits a bearer (or x-api-key) token from `tokens` when its scopes cover the route's need. */
function tokenAuthorizer(tokens: TestTokens): ApiAuthorize {
  return (headers, need) => {
    const presented = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1] ?? (headers['x-api-key'] as string | undefined);
    const scopes = presented === undefined ? undefined : tokens[presented];
    if (!scopes) return { ok: false, failure: { status: 401, message: 'No valid API token.' } };
    if (need !== null && !scopes.includes(need)) return { ok: false, failure: { status: 403, message: `The token lacks the scope "${need}".` } };
    return {
      ok: true,
      grant: { tokenId: presented!, allowsCollection: (id) => scopes.includes('documents:*') || scopes.includes(`documents:${id}`) },
    };
  };
}

export interface ApiServer {
  core: Core;
  model: ModelInfo;
  server: HearthServer;
  baseUrl: string;
  openai(token?: string): OpenAI;
  anthropic(token?: string): Anthropic;
  close(): Promise<void>;
}

/** The real core with stories260K (default chat and embedding model) behind the real local server. */
export async function startApiServer(tokens: TestTokens = { full: ['chat', 'embeddings', 'documents:*'] }, config: Partial<CoreConfig> = {}): Promise<ApiServer> {
  const { core, model, cleanup } = await createLibraryCore(config);
  const server = await startServer(core, { port: 0, rendererDir: '/nonexistent-ui', apiAuthorize: tokenAuthorizer(tokens) });
  const baseUrl = `http://127.0.0.1:${server.port}`;
  return {
    core,
    model,
    server,
    baseUrl,
    openai: (token = 'full') => new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: token, maxRetries: 0, timeout: 60_000 }),
    anthropic: (token = 'full') => new Anthropic({ baseURL: baseUrl, apiKey: token, maxRetries: 0, timeout: 60_000 }),
    close: async () => {
      await server.close();
      await cleanup();
    },
  };
}
