import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { eventNames, type EventName } from '#contract/api';
import { TokenCoalescer } from './tokenCoalescer';
import type { WireMessage } from '#contract/client';
import type { Result } from '#contract/errors';
import { HearthError } from '../core/common/hearthError';
import type { Logger } from '../core/common/logger';
import { openRegularFile } from '../core/common/regularFile';
import type { Core } from '../core/createCore';
import { createDispatcher, type Dispatch } from '../core/rpc/dispatcher';
import { createHandlers } from '../core/rpc/handlers';
import { assertValidToken, LocalAccess, newToken, sessionScope } from './localAccess';
import { admitRequest, requestUrl, sendText, upgradeRejection } from './requestGate';
import { tokenAdmission } from './api/apiAdmission';
import { createApiRouter } from './api/apiRouter';
import { securityHeaders } from './securityHeaders';
import { StaticFiles } from './staticFiles';
import { staticReply } from './staticResponse';
import { parseWireRequest } from './wireRequest';
import { ApiAuthorizer } from './api/apiAuth';
import { ApiGate, isLocalApiPath } from './api/apiGate';
import { createMcpRoute } from './mcp/mcpRoute';
import { guardConnections } from './connectionGuard';
import { IMPORT_UPLOAD_PATH, receiveImportUpload } from './importUpload';
import { documentContentType } from './documentContentType';
import { FairScheduler, type Lane, type LaneFlow } from './fairScheduler';
import { DEFAULT_SERVER_LIMITS, type ServerLimits } from './serverLimits';

export interface ServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** Only loopback names are accepted; the server binds 127.0.0.1 (0.0.0.0 with `lan`). */
  host?: string;
  /** Also serve the API and MCP (only those, with API tokens) to other devices: binds 0.0.0.0. */
  lan?: boolean;
  /** The built renderer (out/renderer), served at /. */
  rendererDir: string;
  /** Defaults to a fresh random token per start. The session prefix is derived from it (sessionScope). */
  token?: string;
  /** What one client may cost (connections, queued calls, unsent bytes); see serverLimits.ts. */
  limits?: Partial<ServerLimits>;
}

export interface HearthServer {
  /** The address to open: a one-time URL (it carries a code that works once, never the token). */
  url: string;
  /** Another one-time URL, for one more browser. */
  newUrl(): string;
  /** For programmatic clients: `Authorization: Bearer`, or ?token= on the WebSocket handshake. */
  token: string;
  port: number;
  close(): Promise<void>;
}

const BIND_ADDRESS = '127.0.0.1';
const LAN_BIND_ADDRESS = '0.0.0.0';

/** True for the error startServer throws when its port is taken. */
export function isPortInUse(error: unknown): boolean {
  return error instanceof HearthError && (error.cause as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
}
const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost']);
/** Largest WebSocket message: a maximal chat message, JSON-escaped, fits with room to spare. */
const MAX_PAYLOAD_BYTES = 2 * 1024 * 1024;
const HEARTBEAT_MS = 30_000;
const CLOSE_GRACE_MS = 500;

/**
 * The headless front end: serves the built UI and carries the contract over a WebSocket
 * at /ws, on 127.0.0.1 only, for holders of the per-start token (browsers: the session
 * cookie a one-time URL gives them, under the session prefix /s/<scope>/; see requestGate).
 * Every call goes through the same dispatcher as Electron IPC, so validation and errors are
 * identical.
 */
export async function startServer(core: Core, options: ServerOptions): Promise<HearthServer> {
  const host = options.host ?? BIND_ADDRESS;
  if (!LOOPBACK_NAMES.has(host.toLowerCase())) {
    throw new HearthError(
      'BAD_INPUT',
      `Refusing to listen on "${host}": Hearth's server has no TLS and gives full access to your models and chats, so it only listens on 127.0.0.1.`,
    );
  }
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65_535) {
    throw new HearthError('BAD_INPUT', `Port must be a whole number from 0 to 65535, not ${options.port}.`);
  }
  const token = options.token ?? newToken();
  assertValidToken(token);
  const limits: ServerLimits = { ...DEFAULT_SERVER_LIMITS, ...options.limits };
  const dispatch = createDispatcher(createHandlers(core), core.logger);
  const files = new StaticFiles(options.rendererDir);
  const logger = core.logger;
  const documentFile = (docId: string): string | null => {
    try {
      return core.library.document(docId).path;
    } catch {
      return null;
    }
  };

  const api = createApiRouter({
    completions: core.completions,
    embeddings: core.embeddings,
    findCollection: (nameOrId) => core.library.findCollection(nameOrId),
    authorize: tokenAdmission(core.apiTokens),
    logger,
  });
  const mcp = createMcpRoute({ library: core.library, authorizer: new ApiAuthorizer(core.apiTokens), version: core.config.version });
  const gate = new ApiGate(options.lan ?? false);

  // The port is known only after listen(); until then no request can arrive anyway.
  let access: LocalAccess | null = null;
  const httpServer = createServer((req, res) => {
    // The local API admits by API token, not by the UI's session; the Host check still applies (DNS rebinding).
    const apiPath = requestUrl(req)?.pathname;
    if (apiPath !== undefined && isLocalApiPath(apiPath)) {
      if (!gate.hostAllowed(req, access!)) return sendText(res, 403, 'Forbidden: this server only answers to 127.0.0.1 and localhost.');
      for (const [name, value] of Object.entries(securityHeaders)) res.setHeader(name, value);
      const trust = () => guard.trust(req.socket);
      (apiPath === '/mcp' ? (trust(), mcp(req, res)) : api(req, res, apiPath, trust)).catch((error: unknown) => {
        logger.error(`API ${req.method ?? ''} ${apiPath} failed`, error);
        if (!res.headersSent) sendText(res, 500, 'Internal error');
        else res.destroy();
      });
      return;
    }
    if (gate.refusedUi(req, res)) return;
    handleRequest(req, res, access!, files, documentFile, dispatch, () => guard.trust(req.socket)).catch((error: unknown) => {
      logger.error(`HTTP ${req.method ?? ''} ${req.url ?? ''} failed`, error);
      if (!res.headersSent) sendText(res, 500, 'Internal error');
      else res.destroy();
    });
  });

  const guard = guardConnections(httpServer, limits, logger);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD_BYTES });
  const clients = new Map<WebSocket, { alive: boolean }>();
  const scheduler = new FairScheduler(limits);

  httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const rejection = gate.upgradeRefusal(req) ?? upgradeRejection(req, access!);
    if (rejection) return refuseUpgrade(socket, rejection[0], rejection[1]);
    guard.trust(socket);
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.set(ws, { alive: true });
      const lane = scheduler.open(clientFlow(ws, limits, logger));
      ws.on('pong', () => {
        const state = clients.get(ws);
        if (state) state.alive = true;
      });
      ws.on('message', (data, isBinary) => onMessage(ws, lane, data, isBinary, dispatch, logger));
      ws.on('close', () => {
        clients.delete(ws);
        lane.close();
      });
      ws.on('error', (error) => logger.debug('WebSocket client error', error));
    });
  });

  // One subscription per event for the whole server; each event is serialized once, and a
  // reply's tokens are merged into at most one message per frame (see TokenCoalescer).
  const broadcast = (name: EventName, payload: unknown) => {
    if (clients.size === 0) return;
    const message: WireMessage = { t: 'event', name, payload };
    const text = JSON.stringify(message);
    for (const ws of clients.keys()) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (ws.bufferedAmount > limits.maxUnsentBytes) {
        logger.warn('dropping a WebSocket client that stopped reading events');
        ws.terminate();
        continue;
      }
      ws.send(text);
    }
  };
  const coalescer = new TokenCoalescer(broadcast);
  const unsubscribes = eventNames.map((name) =>
    core.events.on(name, (payload) => {
      if (clients.size > 0) coalescer.push(name, payload);
    }),
  );

  // Finds connections that vanished without a close frame (a sleeping laptop, a killed tab).
  const heartbeat = setInterval(() => {
    for (const [ws, state] of clients) {
      if (!state.alive) {
        ws.terminate();
        continue;
      }
      state.alive = false;
      ws.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  const port = await new Promise<number>((resolvePort, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new HearthError('BAD_INPUT', `Port ${options.port} is already in use; choose another or use --port 0 for a free one.`, { cause: error })
          : error,
      );
    };
    httpServer.once('error', onError);
    httpServer.listen(options.port, options.lan ? LAN_BIND_ADDRESS : BIND_ADDRESS, () => {
      httpServer.off('error', onError);
      const { port } = httpServer.address() as AddressInfo;
      access = new LocalAccess(token, port, sessionScope(token));
      gate.listening(port);
      resolvePort(port);
    });
  }).catch((error: unknown) => {
    clearInterval(heartbeat);
    for (const unsubscribe of unsubscribes) unsubscribe();
    throw error;
  });
  httpServer.on('error', (error) => logger.error('HTTP server error', error));

  let closing: Promise<void> | null = null;
  const newUrl = () => `http://${BIND_ADDRESS}:${port}/?code=${access!.issueCode()}`;
  return {
    url: newUrl(),
    newUrl,
    token,
    port,
    close() {
      closing ??= (async () => {
        clearInterval(heartbeat);
        for (const unsubscribe of unsubscribes) unsubscribe();
        coalescer.flush();
        await Promise.all([...clients.keys()].map((ws) => closeClient(ws)));
        await new Promise<void>((done) => wss.close(() => done()));
        httpServer.closeAllConnections();
        await new Promise<void>((done) => httpServer.close(() => done()));
      })();
      return closing;
    },
  };
}

/** /documents/<id>/file: the original of an indexed document, so a citation can open it (PDFs at #page=N). */
const DOCUMENT_GONE = 'Not found: the document is no longer in the library or on disk.';
const DOCUMENT_ROUTE = /^\/documents\/(doc_[0-9a-f]{24})\/file$/;

async function handleRequest(
  req: IncomingMessage,
  res: ServerResponse,
  access: LocalAccess,
  files: StaticFiles,
  documentFile: (docId: string) => string | null,
  dispatch: Dispatch,
  trust: () => void,
): Promise<void> {
  for (const [name, value] of Object.entries(securityHeaders)) res.setHeader(name, value);
  const path = admitRequest(req, res, access);
  if (path === null) return;
  trust();

  if (path === '/healthz') {
    const body = JSON.stringify({ ok: true });
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }

  if (req.method === 'POST' && path === IMPORT_UPLOAD_PATH) return receiveImportUpload(req, res, dispatch);

  const documentMatch = DOCUMENT_ROUTE.exec(path);
  if (documentMatch) {
    const path = documentFile(documentMatch[1]!);
    if (!path) return sendText(res, 404, DOCUMENT_GONE);
    // The shared opener: a FIFO, socket or device put in the file's place is refused (never
    // opened, so no read hangs the server), and a slow drive answers within its deadline.
    const opened = await openRegularFile(path).then(
      (handle) => ({ handle }),
      (error: unknown) => ({ error }),
    );
    if ('error' in opened) {
      const code = opened.error instanceof HearthError ? opened.error.code : null;
      if (code === 'FILE_TIMEOUT') return sendText(res, 503, 'The document did not open in time; is its drive slow or disconnected?');
      return sendText(res, 404, code === 'NOT_A_REGULAR_FILE' ? 'Not found: the document on disk is no longer a regular file.' : DOCUMENT_GONE);
    }
    const { handle } = opened;
    const info = await handle.stat().catch(() => null);
    if (!info) {
      await handle.close().catch(() => undefined);
      return sendText(res, 404, DOCUMENT_GONE);
    }
    const { type, inline } = await documentContentType(path, handle);
    res.writeHead(200, {
      'Content-Type': type,
      'Content-Length': String(info.size),
      'Content-Disposition': `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(basename(path))}`,
      'Cache-Control': 'no-store',
    });
    if (req.method === 'HEAD') {
      await handle.close().catch(() => undefined);
      res.end();
      return;
    }
    return pipeStream(handle.createReadStream(), res);
  }

  const file = await files.lookup(path);
  if (!file) {
    return sendText(res, 404, path === '/' ? 'Not found: the UI is not built yet (run `npm run build`).' : 'Not found');
  }
  // Precompressed where the browser accepts it; hashed assets kept for good, the entry page never.
  const reply = staticReply(req, file);
  res.writeHead(200, reply.headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  await pipeFile(reply.path, res);
}

function pipeFile(path: string, res: ServerResponse): Promise<void> {
  return pipeStream(createReadStream(path), res);
}

function pipeStream(stream: Readable, res: ServerResponse): Promise<void> {
  return new Promise<void>((done, fail) => {
    stream.on('error', fail);
    res.on('close', () => {
      stream.destroy();
      done();
    });
    stream.pipe(res);
  });
}

/**
 * Answers malformed frames at once (cheaply: deep nesting is refused before JSON.parse) and
 * queues calls in the client's own lane, so the scheduler runs them fairly against other
 * clients' calls; a client whose queue is full gets BUSY.
 */
function onMessage(ws: WebSocket, lane: Lane, data: RawData, isBinary: boolean, dispatch: Dispatch, logger: Logger): void {
  if (isBinary) {
    logger.debug('refusing a binary WebSocket message');
    reply(ws, lane, null, { ok: false, error: { code: 'BAD_INPUT', message: 'Binary messages are not accepted; send JSON text.' } });
    return;
  }
  const text = rawText(data);
  const parsed = parseWireRequest(text);
  if (!parsed.ok) {
    // Answered even without a usable id (id: null), so no caller waits forever.
    reply(ws, lane, parsed.id, { ok: false, error: { code: 'BAD_INPUT', message: parsed.message } });
    return;
  }
  const { id, name, input } = parsed.request;
  const queued = lane.submit(text.length, async () => {
    if (ws.readyState !== WebSocket.OPEN) return;
    reply(ws, lane, id, await dispatch(name, input));
  });
  if (!queued) {
    const message = 'Too many calls are waiting on this connection; wait for their answers before sending more.';
    reply(ws, lane, id, { ok: false, error: { code: 'BUSY', message } });
  }
}

/** Sends an answer; once it has gone out, the lane checks whether its client can be read again. */
function reply(ws: WebSocket, lane: Lane, id: number | null, result: Result<unknown>): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  const message: WireMessage = { t: 'result', id, result };
  ws.send(JSON.stringify(message), () => lane.wake());
  lane.updateFlow();
}

/**
 * How the scheduler sees one client: its calls wait (and it is not read) while more than
 * pauseUnsentBytes have not been taken by the network, and it is dropped past maxUnsentBytes.
 */
function clientFlow(ws: WebSocket, limits: ServerLimits, logger: Logger): LaneFlow {
  let told = false;
  return {
    writable() {
      if (ws.bufferedAmount > limits.maxUnsentBytes) {
        logger.warn(`dropping a WebSocket client with ${ws.bufferedAmount} bytes of answers it does not read`);
        ws.terminate();
        return false;
      }
      if (ws.bufferedAmount <= limits.pauseUnsentBytes) return true;
      if (!told) {
        told = true;
        logger.info(`a WebSocket client is not reading its answers (${ws.bufferedAmount} bytes unsent): its calls wait until it does`);
      }
      return false;
    },
    pause: () => ws.pause(),
    resume: () => ws.resume(),
  };
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return (Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
}

/** Closes politely, then hangs up on a client that does not answer the close frame. */
function closeClient(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
    ws.once('close', () => {
      clearTimeout(timer);
      done();
    });
    ws.close(1001, 'Hearth is shutting down');
  });
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }[status] ?? 'Error';
  const body = `${text}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
