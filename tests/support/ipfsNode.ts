import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CarBlockIterator } from '@ipld/car/iterator';
import * as dagCbor from '@ipld/dag-cbor';
import type { Helia } from 'helia';
import { createUnsafe } from 'multiformats/block';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';

/**
 * A real IPFS node for tests: Helia 7 with its in-memory blockstore and datastore, never
 * started (no libp2p, no network), behind one HTTP server on 127.0.0.1 that speaks
 *
 * - the part of the Kubo RPC API Hearth uses: dag/import (pins the roots with Helia's pinning,
 *   offline), block/get, files/write and files/read (MFS is an in-memory Map: Helia has no MFS
 *   of its own without @helia/mfs, which this project does not install);
 * - a trustless gateway: GET /ipfs/<cid>?format=raw or Accept: application/vnd.ipld.raw.
 */
export interface IpfsNode {
  /** Kubo RPC API base, e.g. http://127.0.0.1:40123. */
  apiUrl: string;
  /** Trustless gateway base (the same server). */
  gatewayUrl: string;
  helia: Helia;
  /** Gateway and block/get requests per CID (string form as requested). */
  requests: Map<string, number>;
  /** Serve these bytes for the CID instead of the stored block; null: answer "not found". */
  replace(cid: string, bytes: Uint8Array | null): void;
  /** After n more block requests (gateway or block/get), answer 503; null stops failing. */
  failAfter(n: number | null): void;
  close(): Promise<void>;
}

export interface IpfsNodeOptions {
  /** When set, the RPC API answers 401 unless the request carries this Authorization header. */
  authorization?: string;
}

const RAW_BLOCK = 'application/vnd.ipld.raw';

type BlockAnswer = { status: 'ok'; bytes: Uint8Array } | { status: 'missing' } | { status: 'failing' };

export async function startIpfsNode(options: IpfsNodeOptions = {}): Promise<IpfsNode> {
  const helia = await createOfflineHelia();
  const requests = new Map<string, number>();
  const replaced = new Map<string, Uint8Array | null>();
  const mfs = new Map<string, Uint8Array>();
  let failIn: number | null = null;

  /** Counts the request, then applies replace() and failAfter(); null: not there. */
  const serveBlock = async (cidText: string): Promise<BlockAnswer> => {
    requests.set(cidText, (requests.get(cidText) ?? 0) + 1);
    if (failIn !== null) {
      if (failIn <= 0) return { status: 'failing' };
      failIn -= 1;
    }
    const cid = CID.parse(cidText);
    const key = cid.toV1().toString();
    if (replaced.has(key)) {
      const bytes = replaced.get(key);
      return bytes ? { status: 'ok', bytes } : { status: 'missing' };
    }
    if (!(await helia.blockstore.has(cid))) return { status: 'missing' };
    return { status: 'ok', bytes: await readBlock(helia, cid) };
  };

  const rpc = async (command: string, url: URL, request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method !== 'POST') return sendText(response, 405, `${request.method} not allowed: the RPC API takes POST\n`);
    if (options.authorization !== undefined && request.headers.authorization !== options.authorization) {
      return sendText(response, 401, 'Unauthorized\n');
    }
    const arg = url.searchParams.get('arg');
    switch (command) {
      case 'dag/import': {
        const car = filePart(await readBody(request), request.headers['content-type']);
        if (!car) return sendKuboError(response, 400, 'file argument "path" is required');
        const lines: string[] = [];
        try {
          const blocks = await CarBlockIterator.fromBytes(car);
          for await (const block of blocks) {
            // A node checks what it is given: a block that does not hash to its CID is refused.
            if (block.cid.multihash.code !== sha256.code) throw new Error(`unsupported hash in ${block.cid.toString()}`);
            const digest = await sha256.digest(block.bytes);
            if (!equalBytes(digest.digest, block.cid.multihash.digest)) throw new Error(`block ${block.cid.toString()} does not match its hash`);
            await helia.blockstore.put(block.cid, block.bytes);
          }
          for (const root of await blocks.getRoots()) {
            let pinError = '';
            if (url.searchParams.get('pin-roots') !== 'false') pinError = await pin(helia, root);
            lines.push(JSON.stringify({ Root: { Cid: { '/': root.toString() }, PinErrorMsg: pinError } }));
          }
        } catch (error) {
          // Kubo reports a failure part way through as a final error object in the stream.
          lines.push(JSON.stringify({ Message: (error as Error).message, Code: 0, Type: 'error' }));
        }
        response.writeHead(200, { 'content-type': 'application/json', 'x-chunked-output': '1' });
        response.end(lines.map((line) => `${line}\n`).join(''));
        return;
      }
      case 'block/get': {
        if (!arg) return sendKuboError(response, 400, 'argument "cid" is required');
        let result: BlockAnswer;
        try {
          result = await serveBlock(arg);
        } catch (error) {
          return sendKuboError(response, 500, `invalid cid: ${(error as Error).message}`);
        }
        if (result.status === 'failing') return sendText(response, 503, 'Service Unavailable\n');
        // What Kubo says for a block it lacks when it cannot look elsewhere.
        if (result.status === 'missing') return sendKuboError(response, 500, `block was not found locally (offline): ipld: could not find ${arg}`);
        response.writeHead(200, { 'content-type': 'text/plain', 'content-length': result.bytes.length });
        response.end(result.bytes);
        return;
      }
      case 'files/write': {
        if (!arg) return sendKuboError(response, 400, 'argument "path" is required');
        const bytes = filePart(await readBody(request), request.headers['content-type']);
        if (!bytes) return sendKuboError(response, 400, 'file argument "data" is required');
        if (!mfs.has(arg) && url.searchParams.get('create') !== 'true') return sendKuboError(response, 500, 'file does not exist');
        const previous = url.searchParams.get('truncate') === 'true' ? new Uint8Array(0) : (mfs.get(arg) ?? new Uint8Array(0));
        const next = new Uint8Array(Math.max(previous.length, bytes.length));
        next.set(previous);
        next.set(bytes);
        mfs.set(arg, next);
        response.writeHead(200);
        response.end();
        return;
      }
      case 'files/read': {
        if (!arg) return sendKuboError(response, 400, 'argument "path" is required');
        const bytes = mfs.get(arg);
        if (!bytes) return sendKuboError(response, 500, 'file does not exist');
        response.writeHead(200, { 'content-type': 'text/plain', 'content-length': bytes.length });
        response.end(bytes);
        return;
      }
      default:
        return sendText(response, 404, '404 page not found\n');
    }
  };

  const gateway = async (cidText: string, url: URL, request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return sendText(response, 405, 'Method Not Allowed\n');
    const wantsRaw = url.searchParams.get('format') === 'raw' || (request.headers.accept ?? '').includes(RAW_BLOCK);
    // A trustless gateway serves blocks and CARs only, never deserialized content.
    if (!wantsRaw) return sendText(response, 406, 'This gateway only answers trustless requests: add ?format=raw\n');
    let result: BlockAnswer;
    try {
      result = await serveBlock(cidText);
    } catch {
      return sendText(response, 400, `${cidText} is not a CID\n`);
    }
    if (result.status === 'failing') return sendText(response, 503, 'Service Unavailable\n');
    if (result.status === 'missing') return sendText(response, 404, `${cidText} not found\n`);
    response.writeHead(200, {
      'content-type': RAW_BLOCK,
      'content-length': result.bytes.length,
      'x-content-type-options': 'nosniff',
      'cache-control': 'public, max-age=29030400, immutable',
    });
    response.end(request.method === 'HEAD' ? undefined : result.bytes);
  };

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const handle = async (): Promise<void> => {
      if (url.pathname.startsWith('/api/v0/')) return rpc(url.pathname.slice('/api/v0/'.length), url, request, response);
      const match = /^\/ipfs\/([^/]+)\/?$/.exec(url.pathname);
      if (match) return gateway(match[1]!, url, request, response);
      sendText(response, 404, 'Not Found\n');
    };
    handle().catch((error: unknown) => {
      if (!response.headersSent) sendKuboError(response, 500, (error as Error).message);
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    apiUrl: base,
    gatewayUrl: base,
    helia,
    requests,
    replace(cid, bytes) {
      replaced.set(CID.parse(cid).toV1().toString(), bytes);
    },
    failAfter(n) {
      failIn = n;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await helia.stop();
    },
  };
}

/**
 * Helia 7 and its dependencies call Promise.withResolvers, which Node 22 added and Node 20 (the
 * version Hearth runs on) lacks. It is installed here, in test support only, before helia's
 * modules load: hence the dynamic import.
 */
async function createOfflineHelia(): Promise<Helia> {
  const promise = Promise as unknown as { withResolvers?: () => unknown };
  promise.withResolvers ??= function withResolvers<T>() {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const p = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise: p, resolve, reject };
  };
  const { createHelia } = await import('helia');
  // Never started, so libp2p is never created; no routers or gateways, so even a block that is
  // not here cannot send it to the network (every read below is also { offline: true }).
  return createHelia({ http: { delegatedRouters: [], recursiveGateways: [] } });
}

async function readBlock(helia: Helia, cid: CID): Promise<Uint8Array> {
  // Helia 7's blockstore.get yields the block in chunks.
  const chunks: Uint8Array[] = [];
  for await (const chunk of helia.blockstore.get(cid, { offline: true })) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * Pins a root as Kubo does after an import: only a complete DAG can be pinned. The walk is done
 * here first because Helia's own walker, offline, rejects from a detached job when a block is
 * missing, which no caller can catch.
 */
async function pin(helia: Helia, root: CID): Promise<string> {
  const queue = [root];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const cid = queue.pop()!;
    if (seen.has(cid.toString())) continue;
    seen.add(cid.toString());
    if (!(await helia.blockstore.has(cid))) return `pin: block was not found locally (offline): ipld: could not find ${cid.toString()}`;
    if (cid.code === raw.code) continue;
    if (cid.code !== dagCbor.code) return `pin: unsupported codec 0x${cid.code.toString(16)} in ${cid.toString()}`;
    const block = createUnsafe({ bytes: await readBlock(helia, cid), cid, codec: dagCbor });
    for (const [, link] of block.links()) queue.push(link);
  }
  // The options reach blockstore.get, which honours `offline`; AddOptions does not declare it.
  const offline = { depth: Infinity, offline: true };
  try {
    for await (const _ of helia.pins.add(root, offline)) {
      // Draining the generator does the pinning.
    }
  } catch (error) {
    if ((error as Error).name !== 'AlreadyPinnedError') return `pin: ${(error as Error).message}`;
  }
  return '';
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The first part of a multipart/form-data body (Kubo reads the file argument from it). */
function filePart(body: Buffer, contentType: string | undefined): Uint8Array | null {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  const token = boundary?.[1] ?? boundary?.[2];
  if (!token) return null;
  const delimiter = Buffer.from(`--${token}`);
  const start = body.indexOf(delimiter);
  if (start < 0) return null;
  const headersEnd = body.indexOf('\r\n\r\n', start);
  if (headersEnd < 0) return null;
  const contentStart = headersEnd + 4;
  const end = body.indexOf(Buffer.from(`\r\n--${token}`), contentStart);
  if (end < 0) return null;
  return new Uint8Array(body.subarray(contentStart, end));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(text);
}

function sendKuboError(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ Message: message, Code: 0, Type: 'error' }));
}
