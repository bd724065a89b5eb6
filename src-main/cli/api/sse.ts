import type { IncomingMessage, ServerResponse } from 'node:http';
import { HearthError } from '../../core/common/hearthError';
import { nestsDeeperThan } from '../jsonDepth';

/** Largest request body: a long conversation with tool results fits; more is refused (413). */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;
const MAX_BODY_DEPTH = 64;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** The request's JSON body: BAD_INPUT when it is not JSON (or nests too deep), 413 past the limit. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (nestsDeeperThan(text, MAX_BODY_DEPTH)) throw new HearthError('BAD_INPUT', `The request body nests deeper than ${MAX_BODY_DEPTH} levels.`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HearthError('BAD_INPUT', 'The request body is not valid JSON.');
  }
}

export class BodyTooLarge extends HearthError {
  constructor() {
    super('BAD_INPUT', `The request body is larger than ${MAX_BODY_BYTES / 1024 / 1024} MiB.`);
  }
}

/** Aborted when the client goes away before the answer is complete (it stops generating). */
export function clientGone(req: IncomingMessage, res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  req.on('aborted', () => controller.abort());
  return controller.signal;
}
