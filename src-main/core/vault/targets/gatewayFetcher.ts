import type { CID } from 'multiformats/cid';
import { egressFetch } from '../../common/egress';
import { HearthError } from '../../common/hearthError';
import { httpError } from '../../common/httpErrors';
import type { BlockFetcher } from '../types';
import { fetchFailure } from './fetchFailure';
import { MAX_BLOCK_BYTES, readLimitedBody } from './readLimitedBody';

const DEFAULT_TIMEOUT_MS = 60_000;
const RAW_BLOCK = 'application/vnd.ipld.raw';

/**
 * Blocks from an IPFS HTTP gateway in trustless mode (one raw block per request). It returns
 * what the gateway sent: the caller checks it against the CID, as it does for every source.
 */
export class GatewayFetcher implements BlockFetcher {
  readonly description: string;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(baseUrl: string, options: { timeoutMs?: number } = {}) {
    this.baseUrl = checkUrl(baseUrl);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.description = `the gateway ${this.baseUrl}`;
  }

  async get(cid: CID, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const url = `${this.baseUrl}/ipfs/${cid.toString()}?format=raw`;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const service = `the gateway ${this.baseUrl}`;
    let response: Response;
    let body: Uint8Array | null;
    try {
      response = await egressFetch('vault-restore', url, { headers: { accept: RAW_BLOCK }, signal });
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        throw httpError(
          response,
          ({ kind, status }) =>
            kind === 'not-found'
              ? `Block ${cid.toString()} is not on ${service} (HTTP ${status}).`
              : `${capitalizedService(this.baseUrl)} answered HTTP ${status} for block ${cid.toString()}; try again later or use another gateway.`,
          { refused: 'NETWORK_ERROR' },
        );
      }
      // A gateway that ignores ?format=raw sends a rendered page, not the block.
      const type = response.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
      if (type && type !== RAW_BLOCK && type !== 'application/octet-stream') {
        await response.body?.cancel().catch(() => undefined);
        throw new HearthError('NETWORK_ERROR', `${capitalizedService(this.baseUrl)} sent ${type} instead of a raw block for ${cid.toString()}: it does not support trustless requests; use another gateway.`);
      }
      body = await readLimitedBody(response, MAX_BLOCK_BYTES);
    } catch (error) {
      throw fetchFailure(error, { service, signal: options.signal, timeoutMs: this.timeoutMs });
    }
    if (body === null) {
      throw new HearthError('INTEGRITY_ERROR', `${capitalizedService(this.baseUrl)} sent more than ${MAX_BLOCK_BYTES} bytes for block ${cid.toString()}; no block is that large, so the gateway is not trustworthy.`);
    }
    return body;
  }
}

function capitalizedService(baseUrl: string): string {
  return `The gateway ${baseUrl}`;
}

function checkUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new HearthError('BAD_INPUT', `${value} is not a URL; a gateway address looks like https://trustless-gateway.link.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new HearthError('BAD_INPUT', `${value} is not an http or https address; a gateway address looks like https://trustless-gateway.link.`);
  }
  return url.href.replace(/\/+$/, '');
}
