import { closeSync, constants, open as openCallback, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { Socket } from 'node:net';
import { HearthError } from './hearthError';

/**
 * Opening a user-named path safely. A FIFO blocks open() until a writer comes (a read of it,
 * forever), and a libuv thread pool thread stays blocked with it: a handful of such calls
 * starve every other file operation of the process. So a path is stat-ed first and refused
 * unless it is a regular file (NOT_A_REGULAR_FILE), opened with O_NONBLOCK (a file swapped
 * for a FIFO between the stat and the open cannot block the open) and checked again on the
 * open handle; every step runs under a deadline (FILE_TIMEOUT) so a hung file system answers
 * the caller instead of hanging it.
 */

/** How long a stat or an open of a user-named path may take before the caller is answered. */
export const FILE_OPEN_TIMEOUT_MS = 10_000;

export interface DeadlineOptions {
  /** Milliseconds the step may take (default FILE_OPEN_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** What a non-regular file is, for people ("a pipe (FIFO)"); null for a regular file. */
export function nonRegularKind(info: Stats): string | null {
  if (info.isFile()) return null;
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a pipe (FIFO)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** NOT_A_REGULAR_FILE for a path that is a FIFO, a socket or a device. */
export function notRegularFileError(path: string, kind: string, expected = 'a regular file'): HearthError {
  return new HearthError('NOT_A_REGULAR_FILE', `${path} is ${kind}, not ${expected}; Hearth does not open it.`);
}

/** FILE_TIMEOUT: a file-system step on the path took longer than its deadline. */
export function fileTimeoutError(path: string, what: string, ms: number): HearthError {
  return new HearthError('FILE_TIMEOUT', `${what} ${path} took longer than ${Math.round(ms / 100) / 10} s; is it on a slow or disconnected drive?`);
}

/**
 * The work's result, or FILE_TIMEOUT once the deadline passes first. The work itself cannot
 * be stopped (a pending fs call finishes when it finishes); `late` disposes of a result that
 * arrives after the caller was answered (closes a handle opened too late).
 */
export function withFileDeadline<T>(work: Promise<T>, path: string, what: string, ms: number, late?: (value: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      reject(fileTimeoutError(path, what, ms));
    }, ms);
    timer.unref();
    work.then(
      (value) => {
        clearTimeout(timer);
        if (timedOut) late?.(value);
        else resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (!timedOut) reject(error);
      },
    );
  });
}

/** A folder is left to the caller's own wording (fileError says "is a folder"), as before. */
function folderError(path: string): Error {
  return Object.assign(new Error(`${path} is a folder`), { code: 'EISDIR', path });
}

/**
 * Stats a user-named path (following links) under a deadline and returns its Stats when it is
 * a regular file. A folder throws an EISDIR-coded error (for fileError's wording); a FIFO, a
 * socket or a device throws NOT_A_REGULAR_FILE; a missing path the fs error itself.
 */
export async function statRegularFile(path: string, options: DeadlineOptions & { expected?: string } = {}): Promise<Stats> {
  const ms = options.timeoutMs ?? FILE_OPEN_TIMEOUT_MS;
  const info = await withFileDeadline(stat(path), path, 'Looking at', ms);
  const kind = nonRegularKind(info);
  if (kind === 'a folder') throw folderError(path);
  if (kind !== null) throw notRegularFileError(path, kind, options.expected);
  return info;
}

/**
 * Opens a user-named regular file for reading: stat first, then open with O_NONBLOCK (a
 * regular file reads as usual; a FIFO swapped in meanwhile does not block), then checks the
 * open handle is still a regular file. The caller closes the handle.
 */
export async function openRegularFile(path: string, options: DeadlineOptions & { expected?: string } = {}): Promise<FileHandle> {
  const ms = options.timeoutMs ?? FILE_OPEN_TIMEOUT_MS;
  await statRegularFile(path, options);
  const close = (handle: FileHandle) => void handle.close().catch(() => undefined);
  const handle = await withFileDeadline(open(path, constants.O_RDONLY | constants.O_NONBLOCK), path, 'Opening', ms, close);
  try {
    const kind = nonRegularKind(await withFileDeadline(handle.stat(), path, 'Looking at', ms));
    if (kind === 'a folder') throw folderError(path);
    if (kind !== null) throw notRegularFileError(path, kind, options.expected);
    return handle;
  } catch (error) {
    close(handle);
    throw error;
  }
}

/** Up to `n` bytes from the start of a user-named regular file, under the deadline. */
export async function readRegularFilePrefix(path: string, n: number, options: DeadlineOptions & { expected?: string } = {}): Promise<Buffer> {
  const ms = options.timeoutMs ?? FILE_OPEN_TIMEOUT_MS;
  const handle = await openRegularFile(path, options);
  try {
    const buffer = Buffer.alloc(n);
    const { bytesRead } = await withFileDeadline(handle.read(buffer, 0, n, 0), path, 'Reading', ms);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** A whole user-named regular file, under the deadline (for small files: keys, pointers, JSON). */
export async function readRegularFile(path: string, options: DeadlineOptions & { expected?: string; signal?: AbortSignal } = {}): Promise<Buffer> {
  const ms = options.timeoutMs ?? FILE_OPEN_TIMEOUT_MS;
  const handle = await openRegularFile(path, options);
  try {
    return await withFileDeadline(handle.readFile({ signal: options.signal }), path, 'Reading', ms);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * A small user-named file that may also be a pipe: a regular file is read as readRegularFile
 * reads it; a FIFO (a named pipe, or `<(command)` in a shell) is read on the event loop, not
 * on the thread pool, until its writer closes it, within `pipeTimeoutMs` and `maxBytes`
 * (FILE_TIMEOUT, BAD_INPUT). Sockets and devices are refused (NOT_A_REGULAR_FILE).
 */
export async function readFileOrPipe(path: string, options: DeadlineOptions & { expected?: string; pipeTimeoutMs: number; maxBytes: number }): Promise<Buffer> {
  const ms = options.timeoutMs ?? FILE_OPEN_TIMEOUT_MS;
  const info = await withFileDeadline(stat(path), path, 'Looking at', ms);
  if (!info.isFIFO()) return readRegularFile(path, options);
  const fd = await withFileDeadline(openFd(path, constants.O_RDONLY | constants.O_NONBLOCK), path, 'Opening', ms, (late) => closeSync(late));
  // net.Socket on a FIFO's descriptor is a libuv pipe: it waits for the writer without a thread.
  const pipe = new Socket({ fd, readable: true, writable: false });
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = (error: Error | null) => {
      clearTimeout(timer);
      pipe.removeAllListeners('data');
      pipe.destroy();
      if (error) reject(error);
      else resolve(Buffer.concat(chunks));
    };
    const timer = setTimeout(() => finish(fileTimeoutError(path, 'Reading the pipe', options.pipeTimeoutMs)), options.pipeTimeoutMs);
    timer.unref();
    pipe.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > options.maxBytes) finish(new HearthError('BAD_INPUT', `${path} gave more than ${options.maxBytes} bytes; it should hold ${options.expected ?? 'a short text'}.`));
      else chunks.push(chunk);
    });
    pipe.once('end', () => finish(null));
    pipe.once('error', (error) => finish(error));
  });
}

function openFd(path: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => openCallback(path, flags, (error, fd) => (error ? reject(error) : resolve(fd))));
}
