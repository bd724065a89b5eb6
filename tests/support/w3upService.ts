import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CarReader } from '@ipld/car';
import { Message } from '@ucanto/core';
import * as CAR from '@ucanto/transport/car';
import { CID } from 'multiformats/cid';
import * as Link from 'multiformats/link';
import type * as UploadApiContext from '@web3-storage/upload-api/test/context';

type ContextModule = typeof UploadApiContext;
type TestContext = Awaited<ReturnType<ContextModule['createContext']>>;

/**
 * The w3up service (@web3-storage/upload-api) on 127.0.0.1, built from the test context its
 * own test suite and w3up-client's use: in-memory tables, a blob bucket served over HTTP, a
 * debug mailbox instead of email. Here it is reached over real HTTP, as the public service is.
 */
export interface W3upService {
  /** The ucanto endpoint (access, upload and filecoin protocols). */
  url: string;
  did: string;
  /** `/receipt/<task CID>`, answered from the service's own receipt store. */
  receiptsEndpoint: string;
  /**
   * Also answers trustless-gateway block requests (`/ipfs/<cid>?format=raw`) from the CAR
   * shards in its bucket, standing in for w3s.link, which serves the same bucket.
   */
  gatewayUrl: string;
  context: TestContext;
  /** What a user does on clicking the emailed link: waits for the mail to `email`, confirms it. */
  confirmLogin(email: string, options?: { timeoutMs?: number }): Promise<void>;
  close(): Promise<void>;
}

/** The test storage opens its own HTTP servers; bind them to loopback, not every interface. */
const loopbackHttp = {
  ...http,
  createServer: (...args: Parameters<typeof http.createServer>) => {
    const server = http.createServer(...args);
    const listen = server.listen.bind(server) as (...listenArgs: unknown[]) => http.Server;
    server.listen = ((...listenArgs: unknown[]) => {
      const callback = listenArgs.find((arg) => typeof arg === 'function');
      return listen(0, '127.0.0.1', callback);
    }) as typeof server.listen;
    return server;
  },
} as typeof http;

export async function startW3upService(): Promise<W3upService> {
  const Context: ContextModule = await import('@web3-storage/upload-api/test/context');
  const context = await Context.createContext({ http: loopbackHttp, requirePaymentPlan: false });

  const server = http.createServer((request, response) => {
    handle(context, request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500);
      response.end(error instanceof Error ? error.message : String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    did: context.id.did(),
    receiptsEndpoint: `${url}/receipt/`,
    gatewayUrl: url,
    context,
    async confirmLogin(email, { timeoutMs = 20_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const index = context.mail.emails.findIndex((mail) => mail.to === email);
        if (index >= 0) {
          const [mail] = context.mail.emails.splice(index, 1);
          if (mail) await context.grantAccess(mail);
          return;
        }
        if (Date.now() > deadline) throw new Error(`No confirmation email to ${email} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      await Context.cleanupContext(context);
    },
  };
}

async function handle(context: TestContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
  if (request.method === 'POST' && path === '/') {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const headers = Object.fromEntries(
      Object.entries(request.headers).flatMap(([key, value]) => (typeof value === 'string' ? [[key, value]] : [])),
    ) as Record<string, string>;
    const answer = await context.connection.channel.request({ headers, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) });
    response.writeHead(answer.status ?? 200, answer.headers);
    response.end(answer.body);
    return;
  }
  const receipt = /^\/receipt\/([^/]+)$/.exec(path);
  if (request.method === 'GET' && receipt?.[1]) {
    const found = await context.agentStore.receipts.get(Link.parse(receipt[1]));
    if (!found.ok) {
      response.writeHead(404);
      response.end();
      return;
    }
    const message = await Message.build({ receipts: [found.ok] });
    const encoded = CAR.request.encode(message);
    response.writeHead(200, encoded.headers);
    response.end(encoded.body);
    return;
  }
  const block = /^\/ipfs\/([^/]+)$/.exec(path);
  if (request.method === 'GET' && block?.[1]) {
    const bytes = await findBlock(context, CID.parse(block[1]));
    response.writeHead(bytes ? 200 : 404, bytes ? { 'content-type': 'application/vnd.ipld.raw' } : {});
    response.end(bytes);
    return;
  }
  response.writeHead(404);
  response.end();
}

/** Looks through every stored blob that parses as a CAR (shards and the DAG index). */
async function findBlock(context: TestContext, cid: CID): Promise<Uint8Array | undefined> {
  const { content } = context.blobsStorage as unknown as { content: Map<string, Uint8Array> };
  for (const bytes of content.values()) {
    let reader: CarReader;
    try {
      reader = await CarReader.fromBytes(bytes);
    } catch {
      continue;
    }
    const found = await reader.get(cid);
    if (found) return found.bytes;
  }
  return undefined;
}
