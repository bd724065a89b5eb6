import { randomBytes } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { CID } from 'multiformats/cid';
import { egressFetch } from '../../common/egress';
import { fileError } from '../../common/fsErrors';
import { HearthError } from '../../common/hearthError';
import { httpError } from '../../common/httpErrors';
import type { BlockFetcher, CarFile, CarStream, PublishProgress, PublishResult, PublishTarget, StreamedCar, TargetUpload } from '../types';
import { fetchFailure } from './fetchFailure';
import { MAX_BLOCK_BYTES, readLimitedBody } from './readLimitedBody';

const DEFAULT_TIMEOUT_MS = 120_000;
const UPLOAD_CHUNK_BYTES = 1024 * 1024;
const MAX_REPLY_BYTES = 1024 * 1024;
const POINTER_NAME = /^[a-z0-9]{8,64}$/;
const POINTERS_DIR = '/hearth-vault/pointers';

export interface KuboTargetOptions {
  /** The node's RPC API, e.g. http://127.0.0.1:5001. */
  apiUrl: string;
  /** Sent with every request: a reverse proxy's Authorization header, for instance. */
  headers?: Record<string, string>;
  /** For each request but the upload, which can take as long as it needs. */
  timeoutMs?: number;
}

/** An IPFS node reached over the Kubo RPC API: the CAR is imported and its root pinned. */
export class KuboTarget implements PublishTarget {
  readonly kind = 'kubo' as const;
  private readonly apiUrl: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(options: KuboTargetOptions) {
    this.apiUrl = checkUrl(options.apiUrl);
    this.headers = { ...options.headers };
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Streams the CAR as multipart/form-data to dag/import and checks the node pinned the root. */
  async publish(car: CarFile, options: PublishProgress = {}): Promise<PublishResult> {
    const { signal, onProgress } = options;
    signal?.throwIfAborted();
    let file: FileHandle;
    try {
      file = await open(car.path, 'r');
    } catch (error) {
      throw fileError(error, car.path, {
        notFound: `The CAR file ${car.path} to publish does not exist; take the snapshot again.`,
        other: `Could not read ${car.path}: ${(error as Error).message}`,
      });
    }
    try {
      const total = (await file.stat()).size;
      const boundary = `hearth-${randomBytes(12).toString('hex')}`;
      const head = new TextEncoder().encode(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${car.root.toString()}.car"\r\n` +
          'Content-Type: application/vnd.ipld.car\r\n\r\n',
      );
      const tail = new TextEncoder().encode(`\r\n--${boundary}--\r\n`);
      onProgress?.(0, total);
      const body = uploadStream(file, total, head, tail, car.path, (sent) => onProgress?.(sent, total));
      const response = await this.call('dag/import', { 'pin-roots': 'true' }, {
        signal,
        timeout: false,
        body,
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + total + tail.length) },
      });
      const text = await this.replyText(response, 'the import', signal);
      checkImport(text, car.root, this.apiUrl);
      return { location: this.apiUrl };
    } finally {
      await file.close().catch(() => undefined);
    }
  }

  fetcher(): BlockFetcher {
    return {
      description: `the IPFS node at ${this.apiUrl}`,
      get: (cid, options) => this.getBlock(cid, options?.signal),
    };
  }

  /**
   * An MFS file, replaced whole: `/hearth-vault/pointers/<name>`. MFS has no compare-and-swap:
   * `expected` is compared just before the write, which narrows a race to one round trip.
   */
  async writePointer(name: string, record: Uint8Array, options: { signal?: AbortSignal; expected?: Uint8Array | null } = {}): Promise<void> {
    checkPointerName(name);
    if (options.expected !== undefined && !sameRecord(await this.readPointer(name, options), options.expected)) {
      throw new HearthError('BUSY', `The pointer ${name} on the IPFS node at ${this.apiUrl} changed while it was being replaced (another machine publishing?); try again.`);
    }
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(record)]), name);
    const response = await this.call(
      'files/write',
      { arg: `${POINTERS_DIR}/${name}`, create: 'true', truncate: 'true', parents: 'true' },
      { signal: options.signal, body: form },
    );
    await this.replyText(response, `writing the pointer ${name}`, options.signal);
  }

  async readPointer(name: string, options: { signal?: AbortSignal } = {}): Promise<Uint8Array | null> {
    checkPointerName(name);
    const response = await this.call('files/read', { arg: `${POINTERS_DIR}/${name}` }, { signal: options.signal });
    if (!response.ok) {
      const message = await this.errorMessage(response);
      if (response.status === 500 && /does not exist|not found/i.test(message)) return null;
      throw this.statusError(response, message, `reading the pointer ${name}`);
    }
    const bytes = await this.read(response, MAX_REPLY_BYTES, options.signal);
    if (bytes === null) throw new HearthError('INTEGRITY_ERROR', `The pointer ${name} on the IPFS node at ${this.apiUrl} is larger than any Hearth writes; it was not written by Hearth.`);
    return bytes;
  }

  /** The RPC's dag/import takes a whole multipart body: the vault hands it a CAR file instead. */
  openCarStream(): Promise<CarStream> {
    return Promise.reject(new HearthError('UNSUPPORTED', 'An IPFS node takes the CAR as one upload; Hearth writes it to a file first.'));
  }

  publishStream(): Promise<StreamedCar> {
    return Promise.reject(new HearthError('UNSUPPORTED', 'An IPFS node takes the CAR as one upload; Hearth writes it to a file first.'));
  }

  /** Not listed by Hearth: the node answers for itself, and may hold much more than Hearth put there. */
  listUploads(): Promise<TargetUpload[]> {
    return Promise.reject(
      new HearthError('UNSUPPORTED', `Ask the IPFS node itself what it holds (ipfs pin ls); Hearth lists what it published there with "vault ls".`),
    );
  }

  private async getBlock(cid: CID, signal?: AbortSignal): Promise<Uint8Array> {
    const response = await this.call('block/get', { arg: cid.toString() }, { signal });
    if (!response.ok) {
      const message = await this.errorMessage(response);
      if (response.status === 500 && /not found|could not find|does not exist/i.test(message)) {
        throw new HearthError('NOT_FOUND', `Block ${cid.toString()} is not on the IPFS node at ${this.apiUrl} (${message}).`);
      }
      throw this.statusError(response, message, `block ${cid.toString()}`);
    }
    const bytes = await this.read(response, MAX_BLOCK_BYTES, signal);
    if (bytes === null) {
      throw new HearthError('INTEGRITY_ERROR', `The IPFS node at ${this.apiUrl} sent more than ${MAX_BLOCK_BYTES} bytes for block ${cid.toString()}; no block is that large.`);
    }
    return bytes;
  }

  /**
   * One RPC call (always POST, as Kubo requires). Answers any HTTP status; a request that got
   * no answer is a NETWORK_ERROR or CANCELLED.
   */
  private async call(
    command: string,
    params: Record<string, string>,
    options: { signal?: AbortSignal; timeout?: boolean; body?: RequestInit['body']; headers?: Record<string, string> },
  ): Promise<Response> {
    const query = new URLSearchParams(params).toString();
    const url = `${this.apiUrl}/api/v0/${command}${query ? `?${query}` : ''}`;
    const signals = [options.signal, options.timeout === false ? undefined : AbortSignal.timeout(this.timeoutMs)].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    try {
      // Importing and writing the pointer send the user's blocks out; the rest read them back.
      return await egressFetch(command === 'dag/import' || command === 'files/write' ? 'vault-publish' : 'vault-restore', url, {
        method: 'POST',
        headers: { ...this.headers, ...options.headers },
        body: options.body,
        signal: signals.length > 0 ? AbortSignal.any(signals) : undefined,
        // Node's fetch needs this to send a stream; it is not in every RequestInit typing.
        ...(options.body instanceof ReadableStream ? { duplex: 'half' as const } : {}),
      });
    } catch (error) {
      throw this.failure(error, options.signal);
    }
  }

  private failure(error: unknown, signal?: AbortSignal): HearthError {
    return fetchFailure(error, {
      service: `the IPFS node at ${this.apiUrl}`,
      signal,
      timeoutMs: this.timeoutMs,
      whenRefused: `Cannot reach the IPFS node at ${this.apiUrl}: is it running?`,
    });
  }

  /** The body of a successful reply; an error status becomes a contract error. */
  private async replyText(response: Response, what: string, signal?: AbortSignal): Promise<string> {
    if (!response.ok) throw this.statusError(response, await this.errorMessage(response), what);
    const bytes = await this.read(response, MAX_REPLY_BYTES, signal);
    if (bytes === null) throw new HearthError('NETWORK_ERROR', `The IPFS node at ${this.apiUrl} sent an unexpectedly long reply to ${what}.`);
    return new TextDecoder().decode(bytes);
  }

  private async read(response: Response, limit: number, signal?: AbortSignal): Promise<Uint8Array | null> {
    try {
      return await readLimitedBody(response, limit);
    } catch (error) {
      throw this.failure(error, signal);
    }
  }

  /** Kubo answers errors as JSON {Message, Code, Type}; anything else is shown as it is, briefly. */
  private async errorMessage(response: Response): Promise<string> {
    let text = '';
    try {
      const bytes = await readLimitedBody(response, 64 * 1024);
      text = bytes ? new TextDecoder().decode(bytes) : '';
    } catch {
      // The status alone will do.
    }
    try {
      const message = (JSON.parse(text) as { Message?: unknown }).Message;
      if (typeof message === 'string' && message) return message;
    } catch {
      // Not JSON.
    }
    return text.trim().slice(0, 300) || `HTTP ${response.status}`;
  }

  private statusError(response: Response, message: string, what: string): HearthError {
    // A missing path here means the address is not a Kubo RPC API, not a missing block.
    return httpError(
      response,
      ({ kind, status }) =>
        kind === 'refused'
          ? `The IPFS node at ${this.apiUrl} refused ${what} (HTTP ${status}): check the API address and the credentials in its headers.`
          : status === 404 || status === 405
            ? `${this.apiUrl} does not answer like a Kubo RPC API (HTTP ${status} for ${what}): check the address, e.g. http://127.0.0.1:5001.`
            : `The IPFS node at ${this.apiUrl} failed ${what} (HTTP ${status}): ${message}`,
      { 'not-found': 'NETWORK_ERROR' },
    );
  }
}

/**
 * The multipart body as a stream pulled by fetch: the file is read as the socket takes it, so
 * progress follows what was sent and memory stays at one chunk.
 */
function uploadStream(
  file: FileHandle,
  total: number,
  head: Uint8Array,
  tail: Uint8Array,
  path: string,
  onSent: (sent: number) => void,
): ReadableStream<Uint8Array> {
  const parts = uploadParts(file, total, head, tail, path, onSent);
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await parts.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      async cancel() {
        await parts.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

async function* uploadParts(
  file: FileHandle,
  total: number,
  head: Uint8Array,
  tail: Uint8Array,
  path: string,
  onSent: (sent: number) => void,
): AsyncGenerator<Uint8Array> {
  yield head;
  let sent = 0;
  while (sent < total) {
    const chunk = new Uint8Array(Math.min(UPLOAD_CHUNK_BYTES, total - sent));
    const { bytesRead } = await file.read(chunk, 0, chunk.length, sent);
    if (bytesRead === 0) throw new HearthError('CORRUPT_FILE', `${path} got shorter while it was being published; take the snapshot again.`);
    yield chunk.subarray(0, bytesRead);
    sent += bytesRead;
    onSent(sent);
  }
  yield tail;
}

/**
 * dag/import answers NDJSON: a line per root, {"Root":{"Cid":{"/":...},"PinErrorMsg":""}}, and
 * an error object as the last line if the import failed part way.
 */
function checkImport(text: string, root: CID, apiUrl: string): void {
  let confirmed = false;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let entry: { Root?: { Cid?: { '/'?: unknown }; PinErrorMsg?: unknown }; Message?: unknown; Type?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      throw new HearthError('NETWORK_ERROR', `The IPFS node at ${apiUrl} answered the import with something other than JSON: ${line.slice(0, 200)}`);
    }
    if (typeof entry.Message === 'string' && entry.Type === 'error') {
      throw new HearthError('NETWORK_ERROR', `The IPFS node at ${apiUrl} could not import ${root.toString()}: ${entry.Message}`);
    }
    const cid = entry.Root?.Cid?.['/'];
    if (typeof cid !== 'string' || !sameCid(cid, root)) continue;
    const pinError = entry.Root?.PinErrorMsg;
    if (typeof pinError === 'string' && pinError) {
      throw new HearthError('NETWORK_ERROR', `The IPFS node at ${apiUrl} imported ${root.toString()} but could not pin it: ${pinError}`);
    }
    confirmed = true;
  }
  if (!confirmed) {
    throw new HearthError('NETWORK_ERROR', `The IPFS node at ${apiUrl} did not confirm that it pinned ${root.toString()}; is it a Kubo node (0.17 or later)?`);
  }
}

function sameCid(text: string, cid: CID): boolean {
  try {
    // Kubo may spell a CIDv0 root as v1; the hash is what matters.
    return CID.parse(text).toV1().equals(cid.toV1());
  } catch {
    return false;
  }
}

function sameRecord(a: Uint8Array | null, b: Uint8Array | null): boolean {
  return a === null || b === null ? a === b : Buffer.from(a).equals(b);
}

function checkPointerName(name: string): void {
  if (!POINTER_NAME.test(name)) {
    throw new HearthError('BAD_INPUT', `"${name}" is not a valid pointer name: use 8 to 64 lowercase letters and digits.`);
  }
}

function checkUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new HearthError('BAD_INPUT', `${value} is not a URL; an IPFS node's API address looks like http://127.0.0.1:5001.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new HearthError('BAD_INPUT', `${value} is not an http or https address; an IPFS node's API address looks like http://127.0.0.1:5001.`);
  }
  return url.href.replace(/\/+$/, '');
}
