import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { ApiTokenScope } from '#contract/vocabulary';
import { HearthError } from '../../core/common/hearthError';
import type { Logger } from '../../core/common/logger';
import type { CompletionService } from '../../core/inference/completionService';
import type { EmbeddingService } from '../../core/library/embeddingService';
import { anthropicMessages } from './anthropicMessages';
import { parseAnthropic } from './anthropicRequest';
import { anthropicErrorBody, anthropicStatus, apiError, openAiErrorBody, type ApiError } from './apiErrors';
import { openAiChat } from './openaiChat';
import { parseOpenAiChat } from './openaiRequest';
import { openAiEmbeddings, openAiModel, openAiModels } from './openaiResources';
import { BodyTooLarge, clientGone, readJsonBody, sendJson } from './sse';

/** What a route needs of the caller's API token; null: any valid token. */
export type ApiNeed = Extract<ApiTokenScope, 'chat' | 'embeddings'> | null;

/** What an admitted caller may do beyond the route's need. */
export interface ApiCaller {
  tokenId: string;
  allowsCollection(collectionId: string): boolean;
}

export type ApiAdmission = { ok: true; grant: ApiCaller } | { ok: false; failure: { status: 401 | 403; message: string } };

/** Checks the API token a request presents (API tokens only, never the UI's session token). */
export type ApiAuthorize = (headers: IncomingHttpHeaders, need: ApiNeed) => ApiAdmission;

export interface ApiRouterDeps {
  completions: CompletionService;
  embeddings: EmbeddingService;
  /** A collection by id or name, for grounding (`hearth.collections`). */
  findCollection(nameOrId: string): { id: string; name: string } | null;
  authorize: ApiAuthorize;
  logger: Logger;
}

type Flavor = 'openai' | 'anthropic';

interface Route {
  method: 'GET' | 'POST';
  flavor: Flavor;
  need: ApiNeed;
  handle(call: ApiCall): Promise<void>;
}

interface ApiCall {
  req: IncomingMessage;
  res: ServerResponse;
  grant: ApiCaller;
  signal: AbortSignal;
  /** The path's tail after a route prefix (the model of /v1/models/{model}). */
  tail: string;
}

/** The local API's paths: OpenAI's and Anthropic's, under /v1. */
export function isApiPath(path: string): boolean {
  return path === '/v1' || path.startsWith('/v1/');
}

/**
 * The local API: OpenAI-compatible /v1/models, /v1/chat/completions and /v1/embeddings, and
 * Anthropic-compatible /v1/messages. Each request is admitted by its API token and scope, its
 * body read and checked, then handed to one core service; errors answer in the API's own JSON.
 * A client that goes away aborts its request (it leaves the queue or stops generating).
 */
export function createApiRouter(deps: ApiRouterDeps): (req: IncomingMessage, res: ServerResponse, path: string, trust: () => void) => Promise<void> {
  const { completions, embeddings } = deps;
  const lane = (grant: ApiCaller) => `api:${grant.tokenId}`;
  const routes: Record<string, Route> = {
    '/v1/models': { method: 'GET', flavor: 'openai', need: null, handle: ({ res }) => openAiModels(completions, res) },
    '/v1/models/': { method: 'GET', flavor: 'openai', need: null, handle: ({ res, tail }) => openAiModel(completions, tail, res) },
    '/v1/chat/completions': {
      method: 'POST',
      flavor: 'openai',
      need: 'chat',
      handle: async ({ req, res, grant, signal }) => {
        const request = parseOpenAiChat(await readJsonBody(req));
        request.completion.collections = request.collections.map((name) => allowedCollection(deps, grant, name));
        await openAiChat(completions, request, res, { lane: lane(grant), signal });
      },
    },
    '/v1/embeddings': {
      method: 'POST',
      flavor: 'openai',
      need: 'embeddings',
      handle: async ({ req, res, signal }) => openAiEmbeddings(embeddings, await readJsonBody(req), res, signal),
    },
    '/v1/messages': {
      method: 'POST',
      flavor: 'anthropic',
      need: 'chat',
      handle: async ({ req, res, grant, signal }) => anthropicMessages(completions, parseAnthropic(await readJsonBody(req)), res, { lane: lane(grant), signal }),
    },
  };

  return async (req, res, path, trust) => {
    const flavor: Flavor = path.startsWith('/v1/messages') ? 'anthropic' : 'openai';
    const prefix = path.startsWith('/v1/models/') ? '/v1/models/' : path;
    const route = routes[prefix];
    const tail = prefix === path ? '' : decodeURIComponent(path.slice(prefix.length));
    if (!route || (prefix === '/v1/models/' && tail === '')) {
      return sendError(res, flavor, { status: 404, code: 'NOT_FOUND', message: `No API route ${req.method ?? ''} ${path}.`, param: null });
    }
    if (req.method !== route.method) {
      return sendError(res, flavor, { status: 405, code: 'BAD_INPUT', message: `${path} takes ${route.method}.`, param: null }, { Allow: route.method });
    }
    const admission = deps.authorize(req.headers, route.need);
    if (!admission.ok) {
      const { status, message } = admission.failure;
      const headers: Record<string, string> = status === 401 ? { 'WWW-Authenticate': 'Bearer realm="hearth"' } : {};
      return sendError(res, flavor, { status, code: status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', message, param: null }, headers);
    }
    // An admitted caller's connection may stay open past the handshake timeout (long streams).
    trust();
    const signal = clientGone(req, res);
    try {
      await route.handle({ req, res, grant: admission.grant, signal, tail });
    } catch (error) {
      if (signal.aborted || res.writableEnded) return;
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const problem = error instanceof BodyTooLarge ? { ...apiError(error), status: 413 } : apiError(error);
      if (problem.status >= 500 && problem.code !== 'BUSY') deps.logger.error(`API ${req.method ?? ''} ${path} failed`, error);
      sendError(res, route.flavor, problem, problem.code === 'BUSY' ? { 'Retry-After': '1' } : {});
    }
  };
}

/** A collection the request may ground in: found by id or name, and within the token's documents scopes. */
function allowedCollection(deps: ApiRouterDeps, grant: ApiCaller, nameOrId: string): string {
  const collection = deps.findCollection(nameOrId);
  if (!collection) throw new HearthError('COLLECTION_NOT_FOUND', `No collection "${nameOrId}" (hearth.collections takes collection ids or names).`);
  if (!grant.allowsCollection(collection.id)) {
    throw new HearthError('FORBIDDEN', `This API token may not read the collection "${collection.name}" (it needs "documents:${collection.name}" or "documents:*").`);
  }
  return collection.id;
}

function sendError(res: ServerResponse, flavor: Flavor, error: ApiError, headers: Record<string, string> = {}): void {
  if (flavor === 'anthropic') sendJson(res, anthropicStatus(error), anthropicErrorBody(error), headers);
  else sendJson(res, error.status, openAiErrorBody(error), headers);
}
