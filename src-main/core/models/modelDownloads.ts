import { createHash } from 'node:crypto';
import { constants, createReadStream, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { copyFile, link, mkdir, open, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { downloadFile, InvalidContentLengthError, StatusCodeError } from 'ipull';
import { z } from 'zod';
import type { JobInfo, JobStatus, ModelInfo, ModelSource } from '#contract/dto';
import { HearthError } from '../common/hearthError';
import type { Logger } from '../common/logger';
import type { JobContext, JobManager } from '../jobs/jobManager';
import { allocatedBytes, freeDiskBytes } from './diskSpace';
import type { ResolvedSource } from './resolveSource';

export const MODEL_DOWNLOAD_JOB = 'model.download';

export interface ModelDownloadsDeps {
  jobs: JobManager;
  /** Registers the finished file (ModelLibrary.add). */
  library: { add(path: string): Promise<ModelInfo> };
  /** dataDir/models: finished files land here. */
  modelsDir: string;
  /** dataDir/downloads: partial files live here (same file system as modelsDir, so the move is a rename). */
  tempDir: string;
  logger: Logger;
  /** Resolves a source to a URL, headers (auth) and the expected sha256/size when known. Without it only URL sources work. */
  resolve?(source: ModelSource): Promise<ResolvedSource>;
  /** Connections per download; default 4, at least 2 (see `transfer`). */
  parallelConnections?: number;
  /** A download is fetched and checkpointed in pieces this big; a restart resumes at a piece boundary. */
  chunkSizeBytes?: number;
  /** When a connection keeps failing without progress: tries per connection, and the back-off between them. */
  retry?: { attempts: number; minDelayMs: number; maxDelayMs: number };
}

/** What a download job persists: the resolved target, never the headers. */
export interface DownloadParams {
  source: ModelSource;
  url: string;
  fileName: string;
  sha256: string | null;
  sizeBytes: number | null;
}

/** What the server said the first time, so a resume can tell whether the file changed since. */
interface DownloadCheckpoint {
  etag: string | null;
  sizeBytes: number | null;
}

/** The shapes a download's params and checkpoint are read back with (after a crash, or by a newer Hearth). */
const byteCount = z.number().int().nonnegative().nullable();
const downloadParamsSchema = z.object({
  source: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('catalog'), id: z.string(), quantization: z.string().optional() }),
    z.object({ kind: z.literal('hub'), repo: z.string(), file: z.string(), revision: z.string().optional() }),
    z.object({ kind: z.literal('url'), url: z.string(), sha256: z.string().optional() }),
  ]),
  url: z.string().min(1),
  fileName: z.string().min(1),
  sha256: z.string().nullable(),
  sizeBytes: byteCount,
}) satisfies z.ZodType<DownloadParams>;
const downloadCheckpointSchema = z.object({ etag: z.string().nullable(), sizeBytes: byteCount }) satisfies z.ZodType<DownloadCheckpoint>;

interface Remote {
  size: number | null;
  acceptRanges: boolean;
  etag: string | null;
}

const ACTIVE: readonly JobStatus[] = ['queued', 'running', 'paused'];
/** Jobs a pull of the same file picks up again instead of starting over. */
const RETRYABLE: readonly JobStatus[] = ['failed', 'interrupted'];
/** Jobs whose partial files are worth keeping. */
const KEEPS_FILES = new Set<JobStatus>([...ACTIVE, ...RETRYABLE]);
const DEFAULT_CHUNK = 5 * 1024 * 1024;
const DEFAULT_RETRY = { attempts: 8, minDelayMs: 500, maxDelayMs: 10_000 };
const PROBE_TIMEOUT_MS = 30_000;
const GGUF_MAGIC = Buffer.from('GGUF', 'ascii');

/**
 * Downloads models as resumable jobs: parallel ranged connections (ipull), pause and resume,
 * resume after the process is killed, a free-space check first, then size, GGUF and sha256
 * checks, an atomic move into the models folder, and registration in the library. A failure
 * leaves no half-registered model; a pull of a file already on its way joins that job.
 */
export class ModelDownloads {
  private readonly parallel: number;
  private readonly chunkSize: number;
  private readonly retry: { attempts: number; minDelayMs: number; maxDelayMs: number };
  /** Headers from the pull that started a job, used by its first run; a resumed run resolves again. */
  private readonly pendingHeaders = new Map<string, Record<string, string>>();

  constructor(private readonly deps: ModelDownloadsDeps) {
    // ipull 3.9 with one connection restarts a resumed download from byte 0 but keeps only its
    // first piece, which corrupts the file; two or more connections resume correctly.
    this.parallel = Math.min(16, Math.max(2, Math.floor(deps.parallelConnections ?? 4)));
    // ipull mis-tracks pieces smaller than one network read (it hangs, or a retry corrupts the
    // file: seen with 16 KiB pieces), so pieces are never smaller than 256 KiB.
    this.chunkSize = Math.max(256 * 1024, Math.floor(deps.chunkSizeBytes ?? DEFAULT_CHUNK));
    this.retry = deps.retry ?? DEFAULT_RETRY;
    mkdirSync(deps.tempDir, { recursive: true });
    mkdirSync(deps.modelsDir, { recursive: true });
    deps.jobs.register<DownloadParams, DownloadCheckpoint>(MODEL_DOWNLOAD_JOB, {
      params: downloadParamsSchema,
      checkpoint: downloadCheckpointSchema,
      title: (params) => `Download ${params.fileName}`,
      resumable: true,
      run: (params, context) => this.run(params, context),
      discard: (_params, jobId) => this.removeTempFiles(jobId),
    });
    this.sweep();
  }

  /** Starts a download job, or returns the one already fetching the same file. */
  async pull(source: ModelSource): Promise<JobInfo> {
    const resolved = normalize(await this.resolveSource(source));
    const params: DownloadParams = {
      source,
      url: resolved.url,
      fileName: resolved.fileName,
      sha256: resolved.sha256,
      sizeBytes: resolved.sizeBytes,
    };
    // No await from here on: the check and the start cannot interleave with another pull.
    const same = (p: DownloadParams) => p.url === params.url && p.fileName === params.fileName;
    const active = this.deps.jobs.find<DownloadParams>(MODEL_DOWNLOAD_JOB, ACTIVE, same);
    if (active) return active;
    this.pendingHeaders.set(targetKey(params), resolved.headers);
    const earlier = this.deps.jobs.find<DownloadParams>(MODEL_DOWNLOAD_JOB, RETRYABLE, (p) => same(p) && p.sha256 === params.sha256);
    if (earlier) {
      // Picks up the partial file a failed or interrupted attempt kept.
      this.deps.jobs.resume(earlier.id);
      return this.deps.jobs.get(earlier.id);
    }
    return this.deps.jobs.start(MODEL_DOWNLOAD_JOB, params);
  }

  private async resolveSource(source: ModelSource): Promise<ResolvedSource> {
    if (this.deps.resolve) return this.deps.resolve(source);
    if (source.kind === 'url') return resolveUrlSource(source);
    throw new HearthError('UNSUPPORTED', `Cannot download ${source.kind} sources here: no resolver is configured`);
  }

  private async run(params: DownloadParams, context: JobContext<DownloadCheckpoint>): Promise<void> {
    const { signal, jobId } = context;
    await mkdir(this.deps.tempDir, { recursive: true });
    await mkdir(this.deps.modelsDir, { recursive: true });
    const temp = this.tempPaths(jobId);

    // Already in the models folder with the sha256 it should have: register it, no network.
    if (params.sha256) {
      context.onProgress(null, 'Looking for the file on this machine');
      const present = await this.findPresent(params, signal);
      if (present) {
        this.removeTempFiles(jobId);
        this.pendingHeaders.delete(targetKey(params));
        context.onProgress(1, 'Already downloaded');
        await this.deps.library.add(present);
        return;
      }
    }

    let expected = params.sizeBytes ?? context.checkpoint?.sizeBytes ?? null;
    if (!(await this.finishedEarlier(temp, expected))) {
      // A size known in advance is checked before any request.
      if (params.sizeBytes !== null) await this.ensureSpace(params.sizeBytes, params.fileName, jobId);
      const headers = await this.headersFor(params);
      context.onProgress(null, 'Connecting');
      const remote = await this.probe(params, headers, signal, jobId);
      expected = params.sizeBytes ?? remote.size;
      const before = context.checkpoint;
      if (before && ((before.etag && remote.etag && before.etag !== remote.etag) || (before.sizeBytes !== null && before.sizeBytes !== remote.size))) {
        this.deps.logger.info(`${params.fileName} changed on the server since the download began; starting over`);
        this.removeTempFiles(jobId);
      }
      context.saveCheckpoint({ etag: remote.etag, sizeBytes: remote.size });
      await this.transfer(params, remote, headers, temp, context);
    }

    context.onProgress(1, 'Checking the file');
    await this.verify(temp.done, params, expected, signal);
    context.onProgress(1, 'Adding to the library');
    const placed = await this.place(temp.done, params.fileName, signal);
    try {
      await this.deps.library.add(placed.path);
    } catch (error) {
      // Nothing half-registered: a file the library refuses does not stay in its folder.
      if (placed.created) await rm(placed.path, { force: true });
      throw error;
    }
  }

  private async headersFor(params: DownloadParams): Promise<Record<string, string>> {
    const key = targetKey(params);
    const pending = this.pendingHeaders.get(key);
    this.pendingHeaders.delete(key);
    if (pending) return pending;
    // A resumed run asks again: tokens are never written to the job's params.
    return (await this.resolveSource(params.source)).headers;
  }

  /**
   * Asks the server about the file before any big transfer: a HEAD for status, type, length
   * and ETag, then a ranged GET of its first bytes, which shows whether ranges work, the
   * length the server really holds, and whether the file is a GGUF at all.
   */
  private async probe(params: DownloadParams, headers: Record<string, string>, signal: AbortSignal, jobId: string): Promise<Remote> {
    const { url } = params;
    const base = { ...headers, 'accept-encoding': 'identity' };
    let head: Response | null = await request(url, { method: 'HEAD', headers: base }, signal);
    // Some servers answer only GET; the ranged GET below tells the same.
    if (head.status === 405 || head.status === 501) head = null;
    else if (!head.ok) throw httpError(head, url);
    if (head && isHtml(head)) throw notAModel('the server sent an HTML page: the link may need a login, or lead to a web page rather than the file');
    let size = head ? contentLength(head) : null;
    const etag = head ? (head.headers.get('x-linked-etag') ?? head.headers.get('etag')) : null;
    await this.ensureSpace(Math.max(size ?? 0, params.sizeBytes ?? 0), params.fileName, jobId);

    const first = await request(url, { headers: { ...base, range: 'bytes=0-15' } }, signal);
    let acceptRanges = false;
    try {
      if (!first.ok) throw httpError(first, url);
      if (isHtml(first)) throw notAModel('the server sent an HTML page: the link may need a login, or lead to a web page rather than the file');
      if (first.status === 206) {
        acceptRanges = true;
        const total = contentRangeTotal(first);
        if (size !== null && total !== null && total !== size) {
          throw new HearthError(
            'DOWNLOAD_INCOMPLETE',
            `The server announces ${formatBytes(size)} for ${params.fileName} but holds ${formatBytes(total)}: the file there is truncated or the server is misconfigured.`,
          );
        }
        size ??= total;
      } else {
        size ??= contentLength(first);
      }
      const prefix = await readPrefix(first, 16);
      if (prefix.length > 0 || size === 0) {
        const problem = describeNonGguf(prefix);
        if (problem) throw notAModel(problem);
      }
    } finally {
      await first.body?.cancel().catch(() => undefined);
    }

    if (params.sizeBytes !== null && size !== null && size !== params.sizeBytes) {
      throw size < params.sizeBytes
        ? new HearthError('DOWNLOAD_INCOMPLETE', `The server holds only ${formatBytes(size)} of ${params.fileName}, which should be ${formatBytes(params.sizeBytes)}: the file there is truncated.`)
        : new HearthError('DOWNLOAD_FAILED', `The server offers ${formatBytes(size)} for ${params.fileName}, not the ${formatBytes(params.sizeBytes)} expected: the file may have changed there.`);
    }
    return { size, acceptRanges: acceptRanges && size !== null && size > 0, etag };
  }

  /** Throws DISK_FULL when the download's remaining bytes, plus a margin, do not fit. */
  private async ensureSpace(totalBytes: number, fileName: string, jobId: string): Promise<void> {
    if (totalBytes <= 0) return;
    const free = await freeDiskBytes(this.deps.tempDir);
    if (free === null) return;
    const have = await allocatedBytes(this.tempPaths(jobId).partial);
    const needed = Math.max(0, totalBytes - have);
    // Room to spare, so finishing the download does not leave the disk with nothing free.
    const margin = Math.max(8 * 1024 * 1024, Math.ceil(totalBytes * 0.01));
    if (needed + margin > free) {
      throw new HearthError(
        'DISK_FULL',
        `Not enough disk space for ${fileName}: it needs ${formatBytes(needed)} (plus ${formatBytes(margin)} to spare) but only ${formatBytes(free)} is free where Hearth keeps downloads (${this.deps.tempDir}).`,
      );
    }
  }

  /**
   * Fetches the file with ipull: parallel ranged connections, pieces checkpointed in the
   * partial file itself so a paused, failed or killed download continues where it stopped.
   * ipull retries failing connections itself; this decides when to give up (and stops it
   * cleanly, since its own give-up can leave rejected promises unhandled).
   */
  private async transfer(
    params: DownloadParams,
    remote: Remote,
    headers: Record<string, string>,
    temp: { done: string; partial: string },
    context: JobContext<DownloadCheckpoint>,
  ): Promise<void> {
    const { signal } = context;
    signal.throwIfAborted();
    const downloader = await downloadFile({
      url: params.url,
      savePath: temp.done,
      headers: { ...headers, 'accept-encoding': 'identity' },
      parallelStreams: this.parallel,
      chunkSize: this.chunkSize,
      // What the probe learnt; ipull would otherwise send a GET of its own and not read it.
      defaultFetchDownloadInfo: { length: remote.size ?? 0, acceptRange: remote.acceptRanges },
      retryOnServerError: true,
      // Far more tries than the give-up below allows (ipull builds its back-off table up front,
      // so not unbounded); the count restarts whenever a connection makes progress.
      retry: { retries: 1000, factor: 2, minTimeout: this.retry.minDelayMs, maxTimeout: this.retry.maxDelayMs },
    });

    const meter = new RateMeter();
    let transferred = 0;
    downloader.on('progress', (status) => {
      transferred = status.transferredBytes;
      const total = remote.size ?? null;
      const perSecond = meter.sample(transferred);
      const etaSeconds = total !== null && perSecond ? Math.max(0, Math.round((total - transferred) / perSecond)) : null;
      context.onProgress(
        total ? Math.min(1, transferred / total) : null,
        total ? `${formatBytes(transferred)} of ${formatBytes(total)}` : `${formatBytes(transferred)} downloaded`,
        { done: transferred, total, perSecond, etaSeconds },
      );
    });

    let failure: HearthError | null = null;
    let partialIsBad = false;
    let stopping: Promise<void> | null = null;
    let markStopped: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => (markStopped = resolve));

    // Every write goes through here: ipull marks a piece done before its write lands and lets
    // a failed write reject unhandled, so a failure is caught here instead, the download
    // stopped, and the partial file (whose checkpoint now lies) deleted. Counting writes in
    // flight also lets a stop wait for them: closing under a pending write makes ipull reopen,
    // and so recreate, the file after it was closed (or deleted by a cancel).
    const writer = downloader.options.writeStream;
    const write = writer.write.bind(writer);
    let writing = 0;
    writer.options.retry = { retries: 2, minTimeout: 100, maxTimeout: 1_000 }; // a disk error does not heal in hours
    writer.write = async (cursor, buffer) => {
      if (partialIsBad) return;
      writing++;
      try {
        await write(cursor, buffer);
      } catch (error) {
        partialIsBad = true;
        failure ??= transferError(error, params, transferred, remote.size);
        void stop();
      } finally {
        writing--;
      }
    };
    // Closing keeps the partial file and its checkpoint; cancel deletes them through discard.
    const stop = () => {
      stopping ??= (async () => {
        downloader.pause(); // no new piece reaches the writer
        do await new Promise((resolve) => setTimeout(resolve, 5));
        while (writing > 0);
        await downloader.close();
      })()
        .catch((error: unknown) => this.deps.logger.warn(`closing the download of ${params.fileName}`, error))
        .then(() => markStopped());
      return stopping;
    };
    // ipull counts every failed connection; give up when they keep failing with no byte gained.
    let failuresWithoutProgress = 0;
    let bytesAtLastFailure = -1;
    downloader.options.fetchStream.on('errorCountIncreased', (_count, error) => {
      failuresWithoutProgress = transferred > bytesAtLastFailure ? 1 : failuresWithoutProgress + 1;
      bytesAtLastFailure = transferred;
      this.deps.logger.debug(`download of ${params.fileName}: connection failed (${describeError(error)}), retrying`);
      if (failuresWithoutProgress >= this.retry.attempts * this.parallel && !failure) {
        failure = transferError(error, params, transferred, remote.size);
        void stop();
      }
    });

    const onAbort = () => void stop();
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    const finished = downloader.download();
    // Settled below, or left behind once a stop wins the race.
    finished.catch(() => undefined);
    try {
      await Promise.race([finished, stopped]);
      if (stopping) await stopping;
    } catch (error) {
      await stop();
      failure ??= transferError(error, params, transferred, remote.size);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (partialIsBad) this.removeTempFiles(context.jobId);
    if (signal.aborted) throw signal.reason;
    if (failure) throw failure;
  }

  /** Size, GGUF magic and sha256 of a finished download; a file that fails is deleted. */
  private async verify(path: string, params: DownloadParams, expected: number | null, signal: AbortSignal): Promise<void> {
    const fail = async (error: HearthError): Promise<never> => {
      await rm(path, { force: true });
      await rm(`${path}.ipull`, { force: true });
      throw error;
    };
    const size = (await stat(path)).size;
    if (expected !== null && size < expected) {
      await fail(new HearthError('DOWNLOAD_INCOMPLETE', `${params.fileName} arrived incomplete: ${formatBytes(size)} of ${formatBytes(expected)}. It was removed; try again.`));
    }
    if (expected !== null && size > expected) {
      await fail(new HearthError('DOWNLOAD_FAILED', `${params.fileName} arrived larger than expected (${formatBytes(size)}, not ${formatBytes(expected)}). It was removed; try again.`));
    }
    const problem = describeNonGguf(await readFilePrefix(path, 16));
    if (problem) await fail(notAModel(problem));
    if (params.sha256) {
      const actual = await sha256File(path, signal);
      if (actual !== params.sha256) {
        await fail(
          new HearthError(
            'CHECKSUM_MISMATCH',
            `${params.fileName} is damaged: its sha256 is ${actual}, not the published ${params.sha256}. The download was removed; try again.`,
          ),
        );
      }
    }
  }

  /**
   * Moves the file into the models folder without ever replacing another file: the same
   * bytes already there are used as they are, a different file keeps its name and this one
   * becomes "name (2).gguf".
   */
  private async place(file: string, fileName: string, signal: AbortSignal): Promise<{ path: string; created: boolean }> {
    const size = (await stat(file)).size;
    let ownSha: string | null = null;
    for (let n = 1; n <= 100; ) {
      const candidate = this.candidate(fileName, n);
      if (existsSync(`${candidate}.partial`)) {
        n++; // the library is copying a file in under this name
        continue;
      }
      if (!existsSync(candidate)) {
        try {
          await moveWithoutReplacing(file, candidate);
          return { path: candidate, created: true };
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue; // appeared meanwhile: compare it
          throw moveError(error, candidate);
        }
      }
      if ((await stat(candidate)).size === size) {
        ownSha ??= await sha256File(file, signal);
        if ((await sha256File(candidate, signal)) === ownSha) {
          await rm(file, { force: true });
          return { path: candidate, created: false };
        }
      }
      n++;
    }
    throw new HearthError('DOWNLOAD_FAILED', `The models folder already holds 100 different files named like ${fileName}; remove some and try again.`);
  }

  /** A file in the models folder named for this download whose sha256 is the expected one. */
  private async findPresent(params: DownloadParams, signal: AbortSignal): Promise<string | null> {
    for (let n = 1; n <= 100; n++) {
      const candidate = this.candidate(params.fileName, n);
      let size: number;
      try {
        size = (await stat(candidate)).size;
      } catch {
        if (n > 1) return null; // names are taken in order, so the first gap ends the search
        continue;
      }
      if (params.sizeBytes !== null && size !== params.sizeBytes) continue;
      if ((await sha256File(candidate, signal)) === params.sha256) return candidate;
    }
    return null;
  }

  /** A download that finished in the temporary folder but was not moved (the process stopped between). */
  private async finishedEarlier(temp: { done: string; partial: string }, expected: number | null): Promise<boolean> {
    if (expected === null || existsSync(temp.partial)) return false;
    try {
      return (await stat(temp.done)).size === expected;
    } catch {
      return false;
    }
  }

  private candidate(fileName: string, n: number): string {
    const stem = fileName.replace(/\.gguf$/i, '');
    return join(this.deps.modelsDir, n === 1 ? `${stem}.gguf` : `${stem} (${n}).gguf`);
  }

  private tempPaths(jobId: string): { done: string; partial: string } {
    const done = join(this.deps.tempDir, `${jobId}.gguf`);
    return { done, partial: `${done}.ipull` };
  }

  private removeTempFiles(jobId: string): void {
    const { done, partial } = this.tempPaths(jobId);
    rmSync(partial, { force: true });
    rmSync(done, { force: true });
  }

  /** Deletes partial files no job will resume (cancelled, finished, or forgotten). */
  private sweep(): void {
    let names: string[];
    try {
      names = readdirSync(this.deps.tempDir);
    } catch {
      return;
    }
    for (const name of names) {
      const jobId = /^(job_[0-9a-f]+)\.gguf(?:\.ipull)?$/.exec(name)?.[1];
      if (!jobId) continue;
      let status: JobStatus | null = null;
      try {
        status = this.deps.jobs.get(jobId).status;
      } catch {
        // no such job
      }
      if (status === null || !KEEPS_FILES.has(status)) {
        this.deps.logger.debug(`removing leftover download ${name}`);
        rmSync(join(this.deps.tempDir, name), { force: true });
      }
    }
  }
}

/** A URL source on its own: the file name from the URL's path, the sha256 if given, no headers. */
export function resolveUrlSource(source: Extract<ModelSource, { kind: 'url' }>): ResolvedSource {
  let url: URL;
  try {
    url = new URL(source.url);
  } catch {
    throw new HearthError('BAD_INPUT', `Not a URL: ${source.url}`);
  }
  const last = url.pathname.split('/').filter(Boolean).pop() ?? '';
  let fileName: string;
  try {
    fileName = decodeURIComponent(last);
  } catch {
    fileName = last;
  }
  return { url: url.href, fileName: fileName || url.hostname, headers: {}, sha256: source.sha256 ?? null, sizeBytes: null };
}

/** "1.2 MB", "870 KB": decimal units, as download sizes are usually shown. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function normalize(resolved: ResolvedSource): ResolvedSource {
  let url: URL;
  try {
    url = new URL(resolved.url);
  } catch {
    throw new HearthError('BAD_INPUT', `Not a URL: ${resolved.url}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HearthError('BAD_INPUT', `Only http and https downloads are supported, not ${url.protocol}`);
  const sha256 = resolved.sha256?.trim().toLowerCase() || null;
  if (sha256 !== null && !/^[0-9a-f]{64}$/.test(sha256)) throw new HearthError('BAD_INPUT', `Not a sha256: ${resolved.sha256}`);
  const sizeBytes = resolved.sizeBytes !== null && Number.isSafeInteger(resolved.sizeBytes) && resolved.sizeBytes >= 0 ? resolved.sizeBytes : null;
  return { url: url.href, fileName: safeFileName(resolved.fileName), headers: resolved.headers, sha256, sizeBytes };
}

/** A file name that is safe in any models folder: no folders, no characters Windows forbids, ending in .gguf. */
function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = [...base]
    .map((c) => (c.charCodeAt(0) < 32 || '<>:"|?*'.includes(c) ? '_' : c))
    .join('')
    .replace(/^[.\s]+|[.\s]+$/g, '')
    .slice(0, 180);
  const stem = (cleaned || 'model').replace(/\.gguf$/i, '');
  return `${stem || 'model'}.gguf`;
}

const targetKey = (p: { url: string; fileName: string }) => `${p.url}\n${p.fileName}`;

async function request(url: string, init: RequestInit, signal: AbortSignal): Promise<Response> {
  try {
    return await fetch(url, { ...init, redirect: 'follow', signal: AbortSignal.any([signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]) });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw new HearthError('NETWORK_ERROR', `Could not reach ${new URL(url).host}: ${describeError(error)}`, { cause: error });
  }
}

/** The contract code for an HTTP error status (the hub's X-Error-Code header wins where present). */
function httpError(response: Response, url: string): HearthError {
  const { status } = response;
  const hubCode = response.headers.get('x-error-code');
  const where = displayUrl(url);
  if (hubCode === 'RepoNotFound' || hubCode === 'EntryNotFound' || hubCode === 'RevisionNotFound' || status === 404 || status === 410) {
    return new HearthError('NOT_FOUND', `Not found (HTTP ${status}): ${where}`);
  }
  if (status === 401 || status === 403 || hubCode === 'GatedRepo') {
    const tokenAdvice =
      status === 403
        ? 'the Hugging Face token in Settings has no access to it: accept the model’s licence on its Hugging Face page with that account, or store another token'
        : 'add a Hugging Face access token in Settings and accept the model’s licence on its Hugging Face page';
    return new HearthError('MODEL_GATED', `The server refused the download (HTTP ${status}): this model is gated or needs a login; ${tokenAdvice}. (${where})`);
  }
  return new HearthError('DOWNLOAD_FAILED', `The server answered HTTP ${status}${response.statusText ? ` ${response.statusText}` : ''} for ${where}`);
}

/** Maps what stopped a transfer to a contract error. */
function transferError(error: unknown, params: DownloadParams, transferred: number, total: number | null): HearthError {
  if (error instanceof HearthError) return error;
  const at = total ? `${formatBytes(transferred)} of ${formatBytes(total)}` : formatBytes(transferred);
  if (error instanceof StatusCodeError) {
    // A range past the end of what the server holds: it has less than it announced.
    if (error.statusCode === 416) {
      return new HearthError('DOWNLOAD_INCOMPLETE', `The server could not send the rest of ${params.fileName} (HTTP 416 at ${at}): the file there is shorter than announced.`);
    }
    return httpErrorFromStatus(error.statusCode, params.url);
  }
  if (error instanceof InvalidContentLengthError) {
    return new HearthError('DOWNLOAD_INCOMPLETE', `The server sent a different amount of ${params.fileName} than announced (at ${at}): the file there is truncated or changing. Try again later.`);
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new HearthError('DISK_FULL', `The disk filled up while downloading ${params.fileName} (at ${at}); free some space and start the download again.`);
  }
  if (isFileSystemError(error)) {
    return new HearthError('DOWNLOAD_FAILED', `Could not write the download of ${params.fileName}: ${describeError(error)}`);
  }
  return new HearthError(
    'NETWORK_ERROR',
    `The download of ${params.fileName} stopped at ${at}: ${describeError(error)}. What arrived is kept; resume to continue.`,
    { cause: error },
  );
}

function httpErrorFromStatus(status: number, url: string): HearthError {
  return httpError(new Response(null, { status }), url);
}

function isFileSystemError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const syscall = (error as NodeJS.ErrnoException | undefined)?.syscall;
  return typeof code === 'string' && typeof syscall === 'string' && ['open', 'write', 'read', 'ftruncate', 'rename', 'close', 'fsync'].includes(syscall);
}

/** "ECONNREFUSED", "other side closed": the most specific cause a failed fetch carries. */
function describeError(error: unknown): string {
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

function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`; // the query may hold signatures
  } catch {
    return url;
  }
}

function isHtml(response: Response): boolean {
  return /^\s*(text\/html|application\/xhtml)/i.test(response.headers.get('content-type') ?? '');
}

function contentLength(response: Response): number | null {
  if (response.headers.get('content-encoding')) return null; // the length of the compressed form
  const value = Number(response.headers.get('content-length'));
  return response.headers.has('content-length') && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

function contentRangeTotal(response: Response): number | null {
  const match = /\/\s*(\d+)\s*$/.exec(response.headers.get('content-range') ?? '');
  return match ? Number(match[1]) : null;
}

function notAModel(what: string): HearthError {
  return new HearthError('NOT_A_MODEL', `This is not a GGUF model file: ${what}.`);
}

/** Null for a GGUF; else a phrase saying what the bytes look like instead. */
function describeNonGguf(prefix: Buffer): string | null {
  if (prefix.length >= 4 && prefix.subarray(0, 4).equals(GGUF_MAGIC)) return null;
  if (prefix.length === 0) return 'the file is empty';
  const text = prefix.toString('latin1').replace(/^\u00EF\u00BB\u00BF/, '').trimStart();
  if (text.startsWith('<')) {
    return 'the server sent an HTML page: the link may need a login, or lead to a web page rather than the file';
  }
  if (text.startsWith('{') || text.startsWith('[')) return 'the server sent JSON (an error or an API answer), not the file';
  if (prefix.length >= 10 && prefix.readUInt32LE(4) === 0 && prefix[8] === 0x7b) {
    return 'it is a safetensors file; Hearth runs GGUF models, so look for a GGUF version of this model';
  }
  if (prefix[0] === 0x50 && prefix[1] === 0x4b) return 'it is a ZIP archive';
  if (prefix[0] === 0x1f && prefix[1] === 0x8b) return 'it is a gzip archive';
  if ([...prefix].every((b) => (b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d)) return 'the server sent text, not the file';
  return 'the file does not start with "GGUF"';
}

/** Up to n bytes from the start of a response body; an early end still says what it begins with. */
async function readPrefix(response: Response, n: number): Promise<Buffer> {
  const reader = response.body?.getReader();
  if (!reader) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    while (length < n) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(Buffer.from(value));
      length += value.length;
    }
  } catch {
    // keep what arrived
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, n);
}

async function readFilePrefix(path: string, n: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(n);
    const { bytesRead } = await handle.read(buffer, 0, n, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function sha256File(path: string, signal: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024, signal })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** link + unlink fails rather than replace a file that appeared meanwhile; rename would not. */
async function moveWithoutReplacing(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
    await unlink(from);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw error;
    if (code === 'EXDEV') {
      // Another file system: copy under a name the library skips, then rename into place.
      const partial = `${to}.partial`;
      try {
        await copyFile(from, partial, constants.COPYFILE_EXCL);
        if (existsSync(to)) throw Object.assign(new Error(`${to} exists`), { code: 'EEXIST' });
        await rename(partial, to);
      } finally {
        await rm(partial, { force: true });
      }
      await unlink(from);
      return;
    }
    // File systems without hard links (FAT, some network shares).
    if (existsSync(to)) throw Object.assign(new Error(`${to} exists`), { code: 'EEXIST' });
    await rename(from, to);
  }
}

function moveError(error: unknown, to: string): HearthError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new HearthError('DISK_FULL', `Not enough disk space to move the download into ${to}`);
  return new HearthError('DOWNLOAD_FAILED', `Could not move the download into ${to}: ${describeError(error)}`, { cause: error });
}

/** Bytes per second over the last few seconds of samples. */
class RateMeter {
  private readonly samples: { at: number; bytes: number }[] = [];

  sample(bytes: number, now = Date.now()): number | null {
    this.samples.push({ at: now, bytes });
    while (this.samples.length > 2 && now - this.samples[0]!.at > 5_000) this.samples.shift();
    const first = this.samples[0]!;
    const span = now - first.at;
    return span >= 500 ? Math.max(0, ((bytes - first.bytes) * 1000) / span) : null;
  }
}
