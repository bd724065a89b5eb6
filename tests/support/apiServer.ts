import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { ModelInfo } from '#contract/dto';
import { startServer, type HearthServer } from '../../src-main/cli/server';
import type { Core, CoreConfig } from '../../src-main/core/createCore';
import { createLibraryCore } from './libraryCore';

/** API tokens to create, by the name tests use: each with its scopes (chat, embeddings, documents:<collection>|*). */
export type TestTokens = Record<string, readonly string[]>;

export interface ApiServer {
  core: Core;
  model: ModelInfo;
  server: HearthServer;
  baseUrl: string;
  /** Real API tokens (their secrets), by name; a name that is not a token is sent as is (a wrong token). */
  tokens: Record<string, string>;
  openai(token?: string): OpenAI;
  anthropic(token?: string): Anthropic;
  close(): Promise<void>;
}

/** The real core with stories260K (default chat and embedding model) behind the real local server. */
export async function startApiServer(tokens: TestTokens, config: Partial<CoreConfig> = {}): Promise<ApiServer> {
  const { core, model, cleanup } = await createLibraryCore(config);
  const secrets = Object.fromEntries(Object.entries(tokens).map(([name, scopes]) => [name, core.apiTokens.create({ name, scopes }).secret]));
  const server = await startServer(core, { port: 0, rendererDir: '/nonexistent-ui' });
  const baseUrl = `http://127.0.0.1:${server.port}`;
  const secret = (name: string) => secrets[name] ?? name;
  return {
    core,
    model,
    server,
    baseUrl,
    tokens: secrets,
    openai: (token = 'full') => new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: secret(token), maxRetries: 0, timeout: 60_000 }),
    anthropic: (token = 'full') => new Anthropic({ baseURL: baseUrl, apiKey: secret(token), maxRetries: 0, timeout: 60_000 }),
    close: async () => {
      await server.close();
      await cleanup();
    },
  };
}
