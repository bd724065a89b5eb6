import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Result } from '#contract/errors';
import { MAX_IMPORT_CHARS } from '#contract/limits';
import type { Dispatch } from '../core/rpc/dispatcher';
import { sendJson } from './api/sse';

/**
 * POST <session prefix>/import: a chat import (a Hearth JSON export, a ChatGPT
 * conversations.json) sent as the request body, for files too large for one WebSocket message
 * (2 MB). The gate admits it like every request (the session cookie or the token) and checks
 * that a browser's request comes from this server's own page; the body goes to the same
 * `threads.import` call the WebSocket carries, and the answer is that call's Result as JSON.
 */
export const IMPORT_UPLOAD_PATH = '/import';

/** Bytes read at most: the contract's import limit (characters; a plain-text export is one byte each). */
export const MAX_IMPORT_UPLOAD_BYTES = MAX_IMPORT_CHARS;

const TOO_LARGE = `The file is larger than ${MAX_IMPORT_UPLOAD_BYTES / 1024 / 1024} MB, the most Hearth imports at once.`;

export async function receiveImportUpload(req: IncomingMessage, res: ServerResponse, dispatch: Dispatch): Promise<void> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > MAX_IMPORT_UPLOAD_BYTES) return refuseTooLarge(res);
  const chunks: Buffer[] = [];
  let size = 0;
  // A body without a declared length is read to its end (leaving early would cut the answer
  // off with the connection), but nothing past the limit is kept.
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size <= MAX_IMPORT_UPLOAD_BYTES) chunks.push(buffer);
    else chunks.length = 0;
  }
  if (size > MAX_IMPORT_UPLOAD_BYTES) return refuseTooLarge(res);
  const result = await dispatch('threads.import', { content: Buffer.concat(chunks).toString('utf8') });
  sendJson(res, 200, result);
}

function refuseTooLarge(res: ServerResponse): void {
  const body: Result<never> = { ok: false, error: { code: 'IMPORT_INVALID', message: TOO_LARGE } };
  // A declared length past the limit is refused before the body is read: close the connection.
  sendJson(res, 413, body, { Connection: 'close' });
}
