import { randomUUID } from 'node:crypto';
import { openAsBlob } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@web3-storage/w3up-client';
import type { AgentDataExport, ClientFactoryOptions, ServiceConf } from '@web3-storage/w3up-client/types';
import { Sequencer } from '../../common/async';
import { writeFileAtomic } from '../../common/atomicFile';
import { withPurpose } from '../../common/egress';
import { fileError } from '../../common/fsErrors';
import { HearthError, isAbortError } from '../../common/hearthError';
import type { BlockFetcher, CarFile, CarStream, PublishProgress, PublishResult, PublishTarget, StreamedCar, TargetUpload } from '../types';
import { GatewayFetcher } from './gatewayFetcher';

export interface W3upTargetOptions {
  /**
   * Where the agent's state (its signing key and the delegations it holds) is kept: a folder
   * inside Hearth's data directory that snapshots exclude, so a snapshot never carries the key.
   */
  stateDir: string;
  /** The upload service (access, upload and filecoin share it); defaults to the public service. */
  serviceUrl?: string;
  serviceDid?: string;
  /** Where blob/accept receipts are read; defaults to `/receipt/` on serviceUrl, else the public one. */
  receiptsEndpoint?: string;
  /** HTTP gateway that serves the space's content; restore reads blocks from it. */
  gatewayUrl?: string;
  /** The gateway's DID, to which createSpace delegates `space/content/serve`. */
  gatewayDid?: string;
}

export interface W3upSpace {
  did: string;
  name: string;
}

const DEFAULT_SERVICE_URL = 'https://up.web3.storage';
const DEFAULT_SERVICE_DID = 'did:web:web3.storage';
const DEFAULT_GATEWAY_URL = 'https://w3s.link';
const DEFAULT_GATEWAY_DID = 'did:web:w3s.link';
const STATE_FILE = 'agent.json';
const EMAIL = /^[^\s@]+@[^\s@]+$/;

type Did = `did:${string}:${string}`;
type AgentStore = NonNullable<ClientFactoryOptions['store']>;
type Account = Awaited<ReturnType<Client['login']>>;
type GatewayConnection = NonNullable<NonNullable<Parameters<Client['createSpace']>[1]>['authorizeGatewayServices']>[number];

/**
 * web3.storage / Storacha through @web3-storage/w3up-client: CARs go to a space the user's
 * account provisioned, restore reads blocks back through an IPFS HTTP gateway.
 *
 * No latest-snapshot pointer (writePointer/readPointer reject with UNSUPPORTED): w3up stores
 * immutable content only; a mutable name would need w3name, a separate service.
 */
export class W3upTarget implements PublishTarget {
  readonly kind = 'w3up' as const;

  private constructor(
    private readonly client: Client,
    private readonly serviceUrl: string,
    private readonly gatewayUrl: string,
    private readonly gatewayDid: Did,
  ) {}

  static async open(options: W3upTargetOptions): Promise<W3upTarget> {
    const custom = options.serviceUrl !== undefined || options.serviceDid !== undefined;
    const serviceUrl = parseUrl(options.serviceUrl ?? DEFAULT_SERVICE_URL, 'service URL');
    const serviceDid = parseDid(options.serviceDid ?? DEFAULT_SERVICE_DID, 'service DID');
    const gatewayUrl = parseUrl(options.gatewayUrl ?? DEFAULT_GATEWAY_URL, 'gateway URL');
    const gatewayDid = parseDid(options.gatewayDid ?? DEFAULT_GATEWAY_DID, 'gateway DID');
    const receipts =
      options.receiptsEndpoint !== undefined
        ? parseUrl(options.receiptsEndpoint, 'receipts endpoint')
        : custom
          ? new URL('/receipt/', serviceUrl) // the upload service's own convention
          : undefined;

    // Loaded only when web3.storage is used: the client pulls in a library (when-exit) that
    // re-raises every SIGINT/SIGTERM the process gets, which other commands need not inherit.
    const { connection } = await import('@web3-storage/access/agent');
    const { create } = await import('@web3-storage/w3up-client');
    const factoryOptions: ClientFactoryOptions = { store: new JsonFileAgentStore(join(options.stateDir, STATE_FILE)) };
    if (custom) {
      const service = connection({ principal: { did: () => serviceDid }, url: serviceUrl });
      // One service answers all three protocols, as the public one does.
      factoryOptions.serviceConf = { access: service, upload: service, filecoin: service } as unknown as ServiceConf;
    }
    if (receipts) factoryOptions.receiptsEndpoint = receipts;
    await mkdir(options.stateDir, { recursive: true, mode: 0o700 });
    const client = await create(factoryOptions);
    return new W3upTarget(client, serviceUrl.href, gatewayUrl.href, gatewayDid);
  }

  /** The agent's own DID (this device). */
  agentDid(): string {
    return this.client.did();
  }

  /** Accounts this agent holds a session for (did:mailto). */
  accounts(): string[] {
    return Object.keys(this.client.accounts());
  }

  /**
   * Asks the service to email a confirmation link and resolves once the user clicked it (the
   * client polls until the account's delegations arrive). Abort through the signal.
   */
  async login(email: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const address = email.trim();
    if (!EMAIL.test(address)) throw new HearthError('BAD_INPUT', `"${email}" is not an email address.`);
    options.signal?.throwIfAborted();
    try {
      await withPurpose('vault-account', () => this.client.login(address as `${string}@${string}`, { signal: options.signal }));
    } catch (error) {
      throw this.translate(error, 'sign in to', options.signal);
    }
  }

  spaces(): W3upSpace[] {
    return this.client.spaces().map((space) => ({ did: space.did(), name: space.name }));
  }

  /** The space publish() and listUploads() act on, if one is chosen. */
  currentSpace(): string | null {
    return this.client.currentSpace()?.did() ?? null;
  }

  /**
   * Creates a space, provisions it with the signed-in account (which becomes its recovery
   * account), lets the gateway serve its content, and makes it the current space.
   */
  async createSpace(name: string): Promise<string> {
    const trimmed = name.trim();
    if (!trimmed) throw new HearthError('BAD_INPUT', 'Give the space a name.');
    const account = Object.values(this.client.accounts())[0] as Account | undefined;
    if (!account) throw new HearthError('UNAUTHORIZED', 'Sign in to Storacha with your email before creating a space.');
    try {
      const { connection } = await import('@web3-storage/access/agent');
      const gateway = connection({ principal: { did: () => this.gatewayDid }, url: new URL(this.gatewayUrl) });
      const space = await withPurpose('vault-account', () =>
        this.client.createSpace(trimmed, { account, authorizeGatewayServices: [gateway as unknown as GatewayConnection] }),
      );
      await this.client.setCurrentSpace(space.did());
      return space.did();
    } catch (error) {
      throw this.translate(error, 'create a space on');
    }
  }

  async useSpace(did: string): Promise<void> {
    const space = this.client.spaces().find((candidate) => candidate.did() === did);
    if (!space) {
      throw new HearthError('NOT_FOUND', `This device has no Storacha space ${did}: sign in with the account that owns it, or create a space.`);
    }
    await this.client.setCurrentSpace(space.did());
  }

  /**
   * Uploads the CAR into the current space. The client shards it (about 127 MiB a shard, one
   * shard in memory at a time) and reads the file as a stream, so the CAR is never loaded whole.
   */
  async publish(car: CarFile, options: PublishProgress = {}): Promise<PublishResult> {
    const { signal, onProgress } = options;
    const space = this.requireSpace();
    signal?.throwIfAborted();
    let blob: Blob;
    try {
      blob = await openAsBlob(car.path);
    } catch (error) {
      throw fileError(error, car.path, {
        notFound: `The snapshot file ${car.path} is gone; take the snapshot again.`,
        other: `Cannot read ${car.path}: ${(error as Error).message}`,
      });
    }
    let sent = 0;
    onProgress?.(0, car.size);
    try {
      // The client fetches on its own (the service's RPC, the PUTs of each shard): all recorded as the publish.
      const root = await withPurpose('vault-publish', () => this.client.uploadCAR(blob, {
        signal,
        // Node's fetch reports no upload progress, so progress moves a shard at a time.
        onShardStored: (meta) => {
          sent = Math.min(car.size, sent + meta.size);
          onProgress?.(sent, car.size);
          // Only the PUTs honour the signal; stop between shards too.
          signal?.throwIfAborted();
        },
      }));
      if (root.toString() !== car.root.toString()) {
        throw new HearthError('CORRUPT_FILE', `The CAR file ${car.path} has root ${root.toString()}, not the snapshot ${car.root.toString()}; take the snapshot again.`);
      }
    } catch (error) {
      throw this.translate(error, 'publish to', signal);
    }
    onProgress?.(car.size, car.size);
    return { location: space };
  }

  /** Every upload registered in the current space, following the service's pages. */
  async listUploads(options: { signal?: AbortSignal } = {}): Promise<TargetUpload[]> {
    this.requireSpace();
    const uploads: TargetUpload[] = [];
    let cursor: string | undefined;
    try {
      for (;;) {
        options.signal?.throwIfAborted();
        // A fresh nonce: the same invocation signed twice within a second has the same CID, and
        // the service answers it with the receipt it stored the first time (a stale list).
        const page = await withPurpose('vault-account', () => this.client.capability.upload.list({ cursor, size: 1000, nonce: randomUUID() }));
        for (const item of page.results) uploads.push({ root: item.root.toString(), at: item.insertedAt ?? null });
        if (!page.cursor || page.results.length === 0 || page.cursor === cursor) break;
        cursor = page.cursor;
      }
    } catch (error) {
      throw this.translate(error, 'list the uploads on', options.signal);
    }
    return uploads;
  }

  fetcher(): BlockFetcher {
    return new GatewayFetcher(this.gatewayUrl);
  }

  openCarStream(): Promise<CarStream> {
    return Promise.reject(noStream());
  }

  publishStream(): Promise<StreamedCar> {
    return Promise.reject(noStream());
  }

  writePointer(): Promise<void> {
    return Promise.reject(noPointer());
  }

  readPointer(): Promise<Uint8Array | null> {
    return Promise.reject(noPointer());
  }

  private requireSpace(): string {
    const space = this.client.currentSpace();
    if (!space) throw new HearthError('BAD_INPUT', 'No Storacha space is chosen: create one or pick one first.');
    return space.did();
  }

  /** Maps what the client throws to contract errors; network failures surface deep in causes. */
  private translate(error: unknown, action: string, signal?: AbortSignal): Error {
    if (error instanceof HearthError) return error;
    if (signal?.aborted || isAbortError(error)) return new HearthError('CANCELLED', 'Cancelled', { cause: error });
    const chain = causes(error);
    if (chain.some(isNetworkFailure)) {
      return new HearthError(
        'NETWORK_ERROR',
        `Could not ${action} Storacha at ${this.serviceUrl}: ${describe(chain)}. Check your connection and try again.`,
        { cause: error },
      );
    }
    if (chain.some((item) => item instanceof Error && /Unauthorized|InvalidAudience|Expired|Revoked/.test(item.name))) {
      return new HearthError('UNAUTHORIZED', `Storacha refused to let this device ${action} it: ${describe(chain)}. Sign in again.`, { cause: error });
    }
    return new HearthError('INTERNAL', `Could not ${action} Storacha: ${describe(chain)}.`, { cause: error });
  }
}

/**
 * The client's agent store, as a JSON file written atomically with mode 0600 (it holds the
 * agent's private key). The client's own StoreConf cannot be pointed at a directory.
 */
class JsonFileAgentStore implements AgentStore {
  private readonly saves = new Sequencer();

  constructor(private readonly path: string) {}

  async open(): Promise<void> {}

  async close(): Promise<void> {
    await this.saves.settled();
  }

  async load(): Promise<AgentDataExport | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fileError(error, this.path, { other: `Cannot read the Storacha agent state ${this.path}: ${(error as Error).message}` });
    }
    try {
      return JSON.parse(text, revive) as AgentDataExport;
    } catch (error) {
      throw new HearthError('CORRUPT_FILE', `The Storacha agent state ${this.path} is damaged; delete it and sign in again.`, { cause: error });
    }
  }

  save(data: AgentDataExport): Promise<void> {
    // Saves are chained so an older state never lands after a newer one.
    return this.saves.queue(() => saveState(this.path, JSON.stringify(data, replace)));
  }

  async reset(): Promise<void> {
    await this.saves.settled();
    await rm(this.path, { force: true });
  }
}

/** JSON with the types agent data holds: bytes (keys, delegation archives), Maps and URLs. */
function replace(this: unknown, _key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (value instanceof ArrayBuffer) return { $bytes: Buffer.from(value).toString('base64') };
  if (value instanceof Map) return { $map: [...(value as Map<unknown, unknown>).entries()] };
  if (value instanceof URL) return { $url: value.href };
  return value;
}

function revive(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const tagged = value as { $bytes?: unknown; $map?: unknown; $url?: unknown };
  if (typeof tagged.$bytes === 'string') return new Uint8Array(Buffer.from(tagged.$bytes, 'base64'));
  if (Array.isArray(tagged.$map)) return new Map(tagged.$map as [unknown, unknown][]);
  if (typeof tagged.$url === 'string') return new URL(tagged.$url);
  return value;
}

/** Atomic (temp file, flush, rename), mode 0600: the state holds the agent's private key. */
async function saveState(path: string, data: string): Promise<void> {
  try {
    await writeFileAtomic(path, data);
  } catch (error) {
    throw fileError(error, path, { other: `Cannot save the Storacha agent state to ${path}: ${(error as Error).message}` });
  }
}

function noStream(): HearthError {
  return new HearthError('UNSUPPORTED', 'web3.storage takes the CAR as one upload (it is sharded and hashed first); Hearth writes it to a file first.');
}

function noPointer(): HearthError {
  return new HearthError('UNSUPPORTED', 'Storacha keeps only immutable content, so no record of the latest snapshot: give the snapshot CID.');
}

function parseUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new HearthError('BAD_INPUT', `The Storacha ${what} "${value}" is not a URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new HearthError('BAD_INPUT', `The Storacha ${what} "${value}" must start with https://.`);
  }
  return url;
}

function parseDid(value: string, what: string): Did {
  if (!/^did:[a-z0-9]+:.+$/.test(value)) throw new HearthError('BAD_INPUT', `The Storacha ${what} "${value}" is not a DID.`);
  return value as Did;
}

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current !== undefined && current !== null && chain.length < 8 && !chain.includes(current)) {
    chain.push(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

function isNetworkFailure(item: unknown): boolean {
  if (!(item instanceof Error)) return false;
  const code = (item as NodeJS.ErrnoException).code;
  if (code && (NETWORK_CODES.has(code) || code.startsWith('UND_ERR_'))) return true;
  // undici's "fetch failed", and ucanto's HTTP channel on a non-2xx answer.
  return (item.name === 'TypeError' && item.message === 'fetch failed') || item.name === 'HTTPError';
}

function describe(chain: unknown[]): string {
  const deepest = [...chain].reverse().find((item) => item instanceof Error && item.message);
  return deepest instanceof Error ? deepest.message : String(chain[0]);
}
