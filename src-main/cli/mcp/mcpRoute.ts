import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { ApiAuthFailure, ApiAuthorizer } from '../api/apiAuth';
import { createLibraryMcpServer, type McpLibrary } from './libraryTools';

/** Largest MCP request body: tool calls are small; anything bigger is refused before it is parsed. */
const MAX_BODY_BYTES = 1024 * 1024;

export type McpRoute = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * /mcp: MCP over Streamable HTTP, stateless (each request gets its own server and transport,
 * so nothing is kept between requests), answered as JSON. Every request needs an API token
 * with a documents scope; the tools then see only that token's collections.
 */
export function createMcpRoute(deps: { library: McpLibrary; authorizer: ApiAuthorizer; version: string }): McpRoute {
  return async (req, res) => {
    const auth = deps.authorizer.authorize(req.headers, 'documents');
    if (!auth.ok) return writeJsonRpcError(res, auth.failure.status, auth.failure);
    let body: unknown;
    if (req.method === 'POST') {
      const read = await readJson(req);
      if (!read.ok) return writeJsonRpcError(res, read.status, { message: read.message });
      body = read.value;
    }
    const server = createLibraryMcpServer(deps.library, auth.grant.collections, deps.version);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close().catch(() => undefined);
      void server.close().catch(() => undefined);
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };
}

function writeJsonRpcError(res: ServerResponse, status: number, failure: Pick<ApiAuthFailure, 'message'>): void {
  const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' };
  if (status === 401) headers['WWW-Authenticate'] = 'Bearer realm="hearth"';
  res.writeHead(status, headers);
  // -32001: the server-defined range; MCP clients show the message.
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: status === 400 || status === 413 ? -32700 : -32001, message: failure.message }, id: null }));
}

async function readJson(req: IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false; status: 400 | 413; message: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return { ok: false, status: 413, message: `An MCP request may be at most ${MAX_BODY_BYTES} bytes.` };
    chunks.push(chunk as Buffer);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
  } catch {
    return { ok: false, status: 400, message: 'The request body is not JSON.' };
  }
}
