import { formatBytes } from '#contract/format';
import { isDiskFull } from '../common/fsErrors';
import { HearthError } from '../common/hearthError';
import { httpError } from '../common/httpErrors';
import { ipullIfLoaded } from './ipullModule';

/** What a download's errors name: the file and where it comes from. */
export interface DownloadTarget {
  url: string;
  fileName: string;
}

/**
 * An HTTP error status for a download: a refusal is a gated model (MODEL_GATED) with advice on
 * the hub token, any other failure DOWNLOAD_FAILED (the hub's X-Error-Code header wins where present).
 */
export function downloadHttpError(response: { status: number; statusText?: string; headers?: Headers }, url: string): HearthError {
  const where = displayUrl(url);
  return httpError(
    response,
    ({ kind, status, statusText }) => {
      if (kind === 'not-found') return `Not found (HTTP ${status}): ${where}`;
      if (kind === 'refused') {
        const tokenAdvice =
          status === 403
            ? 'the Hugging Face token in Settings has no access to it: accept the model’s licence on its Hugging Face page with that account, or store another token'
            : 'add a Hugging Face access token in Settings and accept the model’s licence on its Hugging Face page';
        return `The server refused the download (HTTP ${status}): this model is gated or needs a login; ${tokenAdvice}. (${where})`;
      }
      return `The server answered HTTP ${status}${statusText ? ` ${statusText}` : ''} for ${where}`;
    },
    { refused: 'MODEL_GATED', failed: 'DOWNLOAD_FAILED' },
  );
}

/** Maps what stopped a transfer to a contract error. */
export function transferError(error: unknown, target: DownloadTarget, transferred: number, total: number | null): HearthError {
  if (error instanceof HearthError) return error;
  const at = total ? `${formatBytes(transferred)} of ${formatBytes(total)}` : formatBytes(transferred);
  const ipull = ipullIfLoaded();
  if (ipull && error instanceof ipull.StatusCodeError) {
    // A range past the end of what the server holds: it has less than it announced.
    if (error.statusCode === 416) {
      return new HearthError('DOWNLOAD_INCOMPLETE', `The server could not send the rest of ${target.fileName} (HTTP 416 at ${at}): the file there is shorter than announced.`);
    }
    return downloadHttpError({ status: error.statusCode }, target.url);
  }
  if (ipull && error instanceof ipull.InvalidContentLengthError) {
    return new HearthError('DOWNLOAD_INCOMPLETE', `The server sent a different amount of ${target.fileName} than announced (at ${at}): the file there is truncated or changing. Try again later.`);
  }
  if (isDiskFull(error)) {
    return new HearthError('DISK_FULL', `The disk filled up while downloading ${target.fileName} (at ${at}); free some space and start the download again.`);
  }
  if (isFileSystemError(error)) {
    return new HearthError('DOWNLOAD_FAILED', `Could not write the download of ${target.fileName}: ${describeError(error)}`);
  }
  return new HearthError(
    'NETWORK_ERROR',
    `The download of ${target.fileName} stopped at ${at}: ${describeError(error)}. What arrived is kept; resume to continue.`,
    { cause: error },
  );
}

/** Moving the finished file into the models folder failed. */
export function moveError(error: unknown, to: string): HearthError {
  if (isDiskFull(error)) return new HearthError('DISK_FULL', `Not enough disk space to move the download into ${to}`);
  return new HearthError('DOWNLOAD_FAILED', `Could not move the download into ${to}: ${describeError(error)}`, { cause: error });
}

export function notAModel(what: string): HearthError {
  return new HearthError('NOT_A_MODEL', `This is not a GGUF model file: ${what}.`);
}

/** "ECONNREFUSED", "other side closed": the most specific cause a failed fetch carries. */
export function describeError(error: unknown): string {
  let current: unknown = error;
  let message = '';
  for (let depth = 0; current && depth < 4; depth++) {
    const e = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof e.code === 'string' && !e.code.startsWith('UND_ERR')) return `${e.code}${typeof e.message === 'string' && e.message ? ` (${e.message})` : ''}`;
    if (typeof e.message === 'string' && e.message) message = e.message;
    current = e.cause;
  }
  return message || String(error);
}

function isFileSystemError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const syscall = (error as NodeJS.ErrnoException | undefined)?.syscall;
  return typeof code === 'string' && typeof syscall === 'string' && ['open', 'write', 'read', 'ftruncate', 'rename', 'close', 'fsync'].includes(syscall);
}

function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`; // the query may hold signatures
  } catch {
    return url;
  }
}
