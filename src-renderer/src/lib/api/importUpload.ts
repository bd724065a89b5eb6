import type { ThreadImportResult } from '#contract/dto';
import type { ErrorCode, Result } from '#contract/errors';

/**
 * A chat import too large for one WebSocket message, posted to the server beside the page
 * (POST <session prefix>/import, the session cookie authenticating it like the socket): the
 * server runs the same `threads.import` call and answers with its Result.
 */
export function importUploadUrl(pageUrl: string): string {
  const url = new URL('import', pageUrl);
  url.search = '';
  url.hash = '';
  return url.href;
}

const REFUSED: Partial<Record<number, ErrorCode>> = { 401: 'UNAUTHORIZED', 403: 'FORBIDDEN' };

export async function postImport(file: Blob, pageUrl: string = location.href): Promise<Result<ThreadImportResult>> {
  let response: Response;
  try {
    response = await fetch(importUploadUrl(pageUrl), {
      method: 'POST',
      body: file,
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
    });
  } catch {
    return { ok: false, error: { code: 'CONNECTION_LOST', message: 'The file could not be sent to Hearth: the connection dropped.' } };
  }
  const text = await response.text().catch(() => '');
  if (response.headers.get('Content-Type')?.startsWith('application/json')) {
    try {
      return JSON.parse(text) as Result<ThreadImportResult>;
    } catch {
      // Answered below, like any other unexpected answer.
    }
  }
  const message = text.trim() || `Hearth answered the import with HTTP ${response.status}.`;
  return { ok: false, error: { code: REFUSED[response.status] ?? 'INTERNAL', message } };
}
